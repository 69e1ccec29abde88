"""Which of several candidates to keep: agreement on probe inputs, and no special cases.

Two ways a candidate can pass a docstring's examples without doing the job:

- it special-cases them (``if a == 3 and b == 4 and c == 5: return True``): such a candidate
  counts as passing nothing;
- it does something else that happens to give the same answers on two examples. Those are
  found by running every candidate on probe inputs (:mod:`probe_inputs`) and preferring the one
  whose outputs the other candidates share: correct programs agree with each other, wrong ones
  are wrong in different ways (CodeT, MBR-exec). Each decode is a vote, repeats included, and a
  voter counts as much as the fraction of the examples it passes.
"""

from __future__ import annotations

import ast
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ghostwright.server.verify.examples import Example
from ghostwright.server.verify.probe_inputs import literal_call

TRIVIAL = (-1, 0, 1, 2, True, False, "", (), [], {}, None)  # values a base case compares with legitimately


@dataclass(frozen=True)
class Voter:
    outputs: tuple[str | None, ...]  # per probe input, None where it did not run
    weight: float  # the fraction of the examples it passes (0 for one that special-cases them)
    votes: int  # how many decodes gave this very candidate


def agreement(a: Sequence[str | None], b: Sequence[str | None]) -> float:
    """The share of the probes both ran on which ``a`` and ``b`` gave the same output."""
    both = [(x, y) for x, y in zip(a, b, strict=False) if x is not None and y is not None]
    return sum(x == y for x, y in both) / len(both) if both else 0.0


def support(voters: Sequence[Voter]) -> list[float]:
    """Per voter: how much the other decodes behave like it (its own repeats count in full)."""
    scores = []
    for i, me in enumerate(voters):
        score = (me.votes - 1) * me.weight
        for j, other in enumerate(voters):
            if j != i and other.weight > 0:
                score += other.votes * other.weight * agreement(me.outputs, other.outputs)
        scores.append(round(score, 6))
    return scores


def special_cases_examples(function_source: str, parameters: Sequence[str], examples: Sequence[Example],
                           name: str) -> bool:
    """True when the code compares its parameters with every argument of some example, one of
    them more than a base case's value: it answers that example by rote, not by working."""
    compared = _compared_values(function_source, set(parameters))
    if not compared:
        return False
    for example in examples:
        bound = _bound_arguments(example.source, name, parameters)
        if not bound:
            continue
        if all(any(_equal(value, seen) for seen in compared.get(p, [])) for p, value in bound.items()) and \
                any(not any(_equal(value, t) for t in TRIVIAL) for value in bound.values()):
            return True
    return False


def _compared_values(source: str, parameters: set[str]) -> dict[str, list[Any]]:
    """``{parameter: [literals it is compared with by ==]}`` anywhere in the code."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    found: dict[str, list[Any]] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare) or len(node.ops) != 1 or not isinstance(node.ops[0], ast.Eq):
            continue
        left, right = node.left, node.comparators[0]
        for named, other in ((left, right), (right, left)):
            if isinstance(named, ast.Name) and named.id in parameters:
                with contextlib.suppress(ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                    found.setdefault(named.id, []).append(ast.literal_eval(other))
    return found


def _bound_arguments(source: str, name: str, parameters: Sequence[str]) -> dict[str, Any]:
    """``{parameter: value}`` for an example ``name(...)`` with literal arguments, else {}."""
    call = literal_call(source, name)
    if call is None or len(call[0]) > len(parameters):
        return {}
    args, kwargs = call
    return {**dict(zip(parameters, args, strict=False)), **{k: v for k, v in kwargs.items() if k in parameters}}


def _equal(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b
