"""Inputs near a docstring's examples, to tell apart candidates that all pass the examples.

Why: a docstring gives two or three examples, and a small model's candidates often pass them
while doing different things (``min(ops) <= 0`` passes "does the balance ever fall below
zero?" on both examples). Run on nearby inputs, candidates that are right agree with each
other, and wrong ones seldom agree on the same wrong answers — the idea behind CodeT and
MBR-exec. No expected output is known for these inputs: they only compare candidates.

    probe_calls(examples, "below_zero")  # ["below_zero([])", "below_zero([3, 2, 1])", ...]

Each probe changes one argument of one example (empty, reversed, one longer, a sign flipped…)
or mixes the arguments of two examples; values stay small, so a probe runs in microseconds
for any sane implementation.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence
from typing import Any

from ghostwright.server.verify.examples import Example

MAX_PROBES = 16
MAX_LENGTH = 64  # longest string or list a probe passes
MAX_INT = 10**6


def probe_calls(examples: Sequence[Example], name: str, limit: int = MAX_PROBES) -> list[str]:
    """Up to ``limit`` call expressions (``name(...)``, no newline), deterministic, none an example's."""
    calls = [c for c in (literal_call(e.source, name) for e in examples) if c is not None]
    seen = {_spell(name, args, kwargs) for args, kwargs in calls}
    rounds: list[list[str]] = []
    for args, kwargs in calls:
        rounds.append([_spell(name, a, k) for a, k in _mutations(args, kwargs)])
    rounds.append([_spell(name, a, k) for a, k in _mixtures(calls)])
    found: list[str] = []
    for depth in range(max((len(r) for r in rounds), default=0)):  # one of each example's in turn
        for candidates in rounds:
            if depth < len(candidates) and candidates[depth] not in seen and len(found) < limit:
                seen.add(candidates[depth])
                found.append(candidates[depth])
    return found


def literal_call(source: str, name: str) -> tuple[list[Any], dict[str, Any]] | None:
    """The literal arguments of ``name(...)`` in an example (``f(1)`` or ``f(1) == 2``), else None.

    Shared with :mod:`candidate_choice`, which binds them to the parameters."""
    try:
        node = ast.parse(source.strip(), mode="eval").body
    except SyntaxError:
        return None
    if isinstance(node, ast.Compare):
        node = node.left
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name):
        return None
    try:
        args = [ast.literal_eval(a) for a in node.args]
        kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords if k.arg is not None}
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    if len(kwargs) != len(node.keywords) or not (args or kwargs):
        return None
    return args, kwargs


def _spell(name: str, args: list[Any], kwargs: dict[str, Any]) -> str:
    return f"{name}({', '.join([*map(repr, args), *(f'{k}={v!r}' for k, v in kwargs.items())])})"


def _mutations(args: list[Any], kwargs: dict[str, Any]) -> Iterator[tuple[list[Any], dict[str, Any]]]:
    """The example with one argument changed, the first change of every argument before the second."""
    keys = [*range(len(args)), *kwargs]
    variants = {key: list(_neighbours(args[key] if isinstance(key, int) else kwargs[key])) for key in keys}
    for depth in range(max((len(v) for v in variants.values()), default=0)):
        for key in keys:
            if depth < len(variants[key]):
                new_args, new_kwargs = list(args), dict(kwargs)
                if isinstance(key, int):
                    new_args[key] = variants[key][depth]
                else:
                    new_kwargs[key] = variants[key][depth]
                yield new_args, new_kwargs


def _mixtures(calls: list[tuple[list[Any], dict[str, Any]]]) -> Iterator[tuple[list[Any], dict[str, Any]]]:
    """The first argument of one example with the others of the next: new pairings of known-good values."""
    for (a_args, a_kwargs), (b_args, b_kwargs) in zip(calls, calls[1:] + calls[:1], strict=True):
        if len(a_args) >= 2 and len(a_args) == len(b_args) and a_kwargs.keys() == b_kwargs.keys():
            yield [a_args[0], *b_args[1:]], b_kwargs


def _neighbours(value: Any) -> Iterator[Any]:
    """Small, type-preserving changes of one value: the edge cases tests like to probe."""
    if isinstance(value, bool):
        yield not value
    elif isinstance(value, int):
        yield from (v for v in (value + 1, value - 1, 0 if value else 3, -value, value * 3 + 1) if abs(v) <= MAX_INT)
    elif isinstance(value, float):
        yield from (value + 1.5, -value, float(round(value)), value / 2)
    elif isinstance(value, str):
        yield from _sequence_neighbours(value, "")
        yield value.swapcase()
        yield value.replace(" ", "  ", 1) if " " in value else value + " " + value[:3]
    elif isinstance(value, list | tuple):
        yield from _sequence_neighbours(value, type(value)())
        for i, item in enumerate(value[:4]):  # an element nudged: numbers one up, strings reversed
            nudged = next(_neighbours(item), None)
            if nudged is not None:
                yield type(value)([*value[:i], nudged, *value[i + 1 :]])


def _sequence_neighbours(value: Any, empty: Any) -> Iterator[Any]:
    if len(value) > MAX_LENGTH:
        return
    yield empty
    yield value[::-1]
    if len(value) > 1:
        yield value[:-1]
        yield value[1:]
    if value:
        yield value + value[:1]
        try:
            ordered = sorted(value)
        except TypeError:  # mixed types
            ordered = None
        if ordered is not None:
            yield "".join(ordered) if isinstance(value, str) else type(value)(ordered)
        if len(value) * 2 <= MAX_LENGTH:
            yield value + value
