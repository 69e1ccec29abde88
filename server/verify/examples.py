"""Read the examples a docstring gives, so that a candidate implementation can be checked against them.

Two kinds of examples are read from a docstring:

- doctest examples (``>>> f(1)`` then the expected output), compared as doctest compares
  them (ELLIPSIS and NORMALIZE_WHITESPACE on, and ``0`` never read as ``False``);
- written-out examples on one line, ``f(1, [2]) == 3`` / ``=> 3`` / ``➞ 3`` / ``-> 3`` /
  ``returns 3`` / ``should return 3``;
- examples by parameter: ``For lst = [1, 2] the output should be 3`` on one line, and
  ``Input: arr = [1, 2], k = 1`` (or a bare ``Input: 3``, or ``name : value`` lines) followed by
  ``Output: [2]``.

Written-out and by-parameter examples are kept only when the arguments and the result are
Python literals (and the names are the function's parameters), and are compared with ``==``,
except that a bool never equals a number: ``0`` in a docstring is not ``False``, as doctest
would say too.

    examples = extract_examples(docstring, "add")
    result = check_candidate(["import math", candidate_source], examples)
    result.passed, result.total, result.evidence
"""

from __future__ import annotations

import ast
import doctest
import inspect
import re
from dataclasses import dataclass

_SEPARATOR = re.compile(r"\s*(==>|==|=>|➞|->|#\s*=>|#\s*returns?|returns?|should\s+return|=)\s*")
_WORDS = {"true": "True", "false": "False", "none": "None"}


@dataclass(frozen=True)
class Example:
    source: str  # what to run: "f(1, 2)\n"
    want: str  # doctest: the expected output; written-out: a Python literal
    line: int  # 0-based line in the (cleaned) docstring
    exact: bool = True  # doctest comparison (True) or == on values (False)


def extract_examples(docstring: str, name: str | None = None,
                     parameters: list[str] | None = None) -> list[Example]:
    """Examples from a docstring (its text, without quotes); ``name`` admits written-out ones,
    and by-parameter ones (checked against ``parameters`` when given)."""
    text = inspect.cleandoc(docstring)
    found = [e for e in _doctest_examples(text) if _compiles(e.source)]
    if name:
        seen = {e.source.strip() for e in found}
        lines = text.splitlines()
        written = [_written_out(line, name, number) for number, line in enumerate(lines) if ">>>" not in line]
        written += [_for_should_be(line, name, parameters, number) for number, line in enumerate(lines)]
        written += _input_output(lines, name, parameters)
        for example in written:
            if example is not None and example.source.strip() not in seen:
                seen.add(example.source.strip())
                found.append(example)
    return found


def _doctest_examples(text: str) -> list[Example]:
    """The ``>>>`` examples; when doctest refuses the whole text (a string literal's newline
    breaking the indentation, say), each example block is read on its own."""
    def read(part: str, offset: int) -> list[Example]:
        return [Example(e.source, e.want or ("True\n" if _is_comparison(e.source) else ""), e.lineno + offset)
                for e in doctest.DocTestParser().get_examples(part)]

    try:
        return read(text, 0)
    except ValueError:
        pass
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.lstrip().startswith(">>>")]
    found: list[Example] = []
    for start, end in zip(starts, [*starts[1:], len(lines)], strict=True):
        try:
            found += read("\n".join(lines[start:end]), start)
        except ValueError:
            continue
    return found


def _compiles(source: str) -> bool:
    try:
        compile(source, "example", "single")
    except (SyntaxError, ValueError):
        return False
    return True


def _literal(text: str) -> str | None:
    """``text`` as a Python literal's source (``true`` read as ``True``), or None."""
    text = re.sub(r"\s+#.*$", "", text).strip().rstrip(".,;").strip()
    text = _WORDS.get(text.lower(), text)
    try:
        ast.literal_eval(text)
    except (SyntaxError, ValueError, TypeError, MemoryError, RecursionError):
        return None
    return text if text else None


def _call(name: str, arguments: str, parameters: list[str] | None) -> str | None:
    """``name(arguments)`` when the arguments are literals (keywords naming parameters), else None."""
    try:
        node = ast.parse(f"_({arguments})", mode="eval").body
        if not isinstance(node, ast.Call) or not (node.args or node.keywords):
            return None
        for argument in [*node.args, *(k.value for k in node.keywords)]:
            ast.literal_eval(argument)
    except (SyntaxError, ValueError, TypeError, MemoryError, RecursionError):
        return None
    if parameters is not None:
        if len(node.args) + len(node.keywords) > len(parameters):
            return None
        if any(k.arg not in parameters[len(node.args):] for k in node.keywords):
            return None
    return f"{name}({ast.unparse(node)[2:-1]})\n"


_FOR = re.compile(r"^[\s*\-•]*for\s+(.+?)\s*,?\s+the\s+(?:output|result|answer)\s+(?:should\s+be|is|will\s+be)"
                  r"\s*=?\s*(.+)$", re.IGNORECASE)


def _for_should_be(line: str, name: str, parameters: list[str] | None, number: int) -> Example | None:
    """``For lst = [1, 2], k = 1 the output should be 3`` (words may follow the arguments)."""
    match = _FOR.match(line)
    if match is None or "=" not in match.group(1):
        return None
    want = _literal(match.group(2))
    pieces = match.group(1).split(",")
    for count in range(len(pieces), 0, -1):  # "N = 1000, the sum of digits will be 1": drop the words
        call = _call(name, ",".join(pieces[:count]), parameters)
        if call is not None and want is not None:
            return Example(call, want, number, exact=False)
    return None


def _input_output(lines: list[str], name: str, parameters: list[str] | None) -> list[Example]:
    """``Input:`` (arguments on its line or on the lines below, as ``a = 1`` or ``a : 1``) then ``Output:``."""
    found: list[Example] = []
    for number, line in enumerate(lines):
        head = re.match(r"^\s*input\s*:\s*(.*)$", line, re.IGNORECASE)
        if head is None:
            continue
        arguments = [head.group(1).strip()] if head.group(1).strip() else []
        for follow in lines[number + 1 : number + 12]:
            output = re.match(r"^\s*output\s*:\s*(.*)$", follow, re.IGNORECASE)
            if output is not None:
                want = _literal(output.group(1))
                call = _call(name, ", ".join(arguments), parameters) if arguments else None
                if call is not None and want is not None:
                    found.append(Example(call, want, number, exact=False))
                break
            pair = re.match(r"^\s*([A-Za-z_]\w*)\s*[:=]\s*(.+)$", follow)
            if pair is None:
                break
            arguments.append(f"{pair.group(1)}={pair.group(2).strip()}")
    return found


def _is_comparison(source: str) -> bool:
    """``>>> f(1) == 2`` with nothing below it: the author meant it to be True."""
    try:
        node = ast.parse(source, mode="eval").body
    except SyntaxError:
        return False
    return isinstance(node, ast.Compare) and all(isinstance(op, ast.Eq) for op in node.ops)


def _written_out(line: str, name: str, number: int) -> Example | None:
    """``f(literal, ...) <separator> literal`` on one line, or None."""
    start = re.search(rf"(?<![\w.]){re.escape(name)}\(", line)
    if start is None or not re.fullmatch(r"[\s*\-•]*(for\s+)?", line[: start.start()]):
        return None
    for end in (i for i, c in enumerate(line) if c == ")" and i > start.start()):
        call = line[start.start() : end + 1]
        try:
            node = ast.parse(call, mode="eval").body
            for argument in [*node.args, *(k.value for k in node.keywords)]:  # type: ignore[attr-defined]
                ast.literal_eval(argument)
        except (SyntaxError, ValueError, TypeError, AttributeError, MemoryError, RecursionError):
            continue
        separator = _SEPARATOR.match(line, end + 1)
        if separator is None:
            return None
        want = _literal(re.sub(r"\s*#.*$", "", line[separator.end() :]))
        return None if want is None else Example(call + "\n", want, number, exact=False)
    return None
