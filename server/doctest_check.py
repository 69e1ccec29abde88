"""Check a candidate implementation against the examples its docstring gives, in the sandbox.

Two kinds of examples are read from a docstring:

- doctest examples (``>>> f(1)`` then the expected output), compared as doctest compares
  them (ELLIPSIS and NORMALIZE_WHITESPACE on);
- written-out examples on one line, ``f(1, [2]) == 3`` / ``=> 3`` / ``➞ 3`` / ``-> 3`` /
  ``returns 3`` / ``should return 3``, kept only when the arguments and the result are
  Python literals, and compared with ``==``.

    examples = extract_examples(docstring, "add")
    result = check_candidate(["import math", candidate_source], examples)
    result.passed, result.total, result.evidence

The candidate's module is given as chunks (imports, neighbouring definitions, the candidate)
that run one by one, so one import that the sandbox lacks does not hide the others. The
verdict comes from lines carrying a per-run nonce; code written to forge it could, since it
runs in the same interpreter: this ranks honest model output, it is not a proof.
"""

from __future__ import annotations

import ast
import doctest
import inspect
import json
import re
import secrets
from dataclasses import dataclass

from ghostwright.server.sandbox import Limits, run_python

CHECK_LIMITS = Limits(timeout_s=4, cpu_s=3, memory_mb=512)
_SEPARATOR = re.compile(r"\s*(==>|==|=>|➞|->|#\s*=>|#\s*returns?|returns?|should\s+return|=)\s*")
_WORDS = {"true": "True", "false": "False", "none": "None"}

_HARNESS = r'''
import ast, doctest, json, sys
mark, globs = sys.argv[1], {"__name__": "__candidate__"}
chunks, examples = json.load(open("chunks.json")), json.load(open("examples.json"))
def say(**kw):
    print(mark + json.dumps(kw), flush=True)
for source, target in chunks:
    try:
        exec(compile(source, "candidate.py", "exec"), globs)
    except BaseException as exc:
        if target:
            say(load_error=f"{type(exc).__name__}: {exc}")
            sys.exit(0)
checker, flags = doctest.OutputChecker(), doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
class Recorder(doctest.DocTestRunner):
    def report_success(self, out, test, example, got):
        self.result = (True, got)
    def report_failure(self, out, test, example, got):
        self.result = (False, got)
    def report_unexpected_exception(self, out, test, example, exc_info):
        self.result = (False, f"{exc_info[0].__name__}: {exc_info[1]}")
for i, (source, want, exact) in enumerate(examples):
    if exact:
        runner = Recorder(checker, optionflags=flags)
        runner.result = (False, "")
        runner.run(doctest.DocTest([doctest.Example(source, want)], globs, "example", None, 0, None),
                   out=lambda text: None, clear_globs=False)
        ok, got = runner.result
        if not ok:  # "21" for '21': the same value, spelled otherwise
            try:
                ok = ast.literal_eval(want.strip()) == ast.literal_eval(got.strip())
            except Exception:
                pass
        say(i=i, ok=ok, got=got)
        continue
    try:
        got = eval(source, globs)
        say(i=i, ok=bool(got == eval(want, {})), got=repr(got))
    except BaseException as exc:
        say(i=i, ok=False, got=f"{type(exc).__name__}: {exc}")
'''


@dataclass(frozen=True)
class Example:
    source: str  # what to run: "f(1, 2)\n"
    want: str  # doctest: the expected output; written-out: a Python literal
    line: int  # 0-based line in the (cleaned) docstring
    exact: bool = True  # doctest comparison (True) or == on values (False)


@dataclass(frozen=True)
class CheckResult:
    passed: int
    total: int
    evidence: tuple[str, ...]  # one line per example: "ok    f(1) -> 2" / "FAIL  f(1): want 2, got 3"
    error: str | None = None  # the candidate did not load, or the sandbox stopped it

    @property
    def all_passed(self) -> bool:
        return self.total > 0 and self.passed == self.total

    def summary(self) -> str:
        return f"{self.passed}/{self.total} examples pass" if self.total else "no examples to check"


def extract_examples(docstring: str, name: str | None = None) -> list[Example]:
    """Examples from a docstring (its text, without quotes); ``name`` admits written-out ones."""
    text = inspect.cleandoc(docstring)
    found: list[Example] = []
    try:
        for example in doctest.DocTestParser().get_examples(text):
            want = example.want or ("True\n" if _is_comparison(example.source) else "")
            found.append(Example(example.source, want, example.lineno))
    except ValueError:  # inconsistent indentation: doctest itself would refuse it
        pass
    if name:
        seen = {e.source.strip() for e in found}
        for number, line in enumerate(text.splitlines()):
            example = _written_out(line, name, number)
            if example is not None and example.source.strip() not in seen and ">>>" not in line:
                seen.add(example.source.strip())
                found.append(example)
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
        want = re.sub(r"\s*#.*$", "", line[separator.end() :]).strip().rstrip(".,;").strip()
        want = _WORDS.get(want.lower(), want)
        try:
            ast.literal_eval(want)
        except (SyntaxError, ValueError, TypeError, MemoryError, RecursionError):
            return None
        return Example(call + "\n", want, number, exact=False)
    return None


def check_candidate(chunks: list[str] | list[tuple[str, bool]], examples: list[Example],
                    limits: Limits = CHECK_LIMITS) -> CheckResult:
    """Run ``examples`` against the module made of ``chunks`` (the last, or each marked True, is
    the candidate: if it fails to load, nothing passes). Blocking: call it from a thread."""
    if not examples:
        return CheckResult(0, 0, ())
    marked = [c if isinstance(c, tuple) else (c, i == len(chunks) - 1) for i, c in enumerate(chunks)]
    mark = f"@@{secrets.token_hex(8)}@@"
    payload = [[e.source, e.want, e.exact] for e in examples]
    result = run_python(_HARNESS, args=(mark,), limits=limits,
                        files={"chunks.json": json.dumps(marked), "examples.json": json.dumps(payload)})
    verdicts: dict[int, tuple[bool, str]] = {}
    for line in result.stdout.splitlines():
        if not line.startswith(mark):
            continue
        try:
            record = json.loads(line[len(mark) :])
        except ValueError:
            continue
        if "load_error" in record:
            return CheckResult(0, len(examples), (), f"the candidate does not load: {record['load_error']}")
        verdicts[int(record["i"])] = (bool(record["ok"]), str(record["got"]))
    evidence = []
    for i, example in enumerate(examples):
        ok, got = verdicts.get(i, (False, "not run"))
        call = example.source.strip()
        want = example.want.strip()
        evidence.append(f"ok    {call} -> {want}" if ok else f"FAIL  {call}: want {want}, got {got.strip()[:200]}")
    error = None
    if result.limit or (not result.ok and len(verdicts) < len(examples)):
        error = f"stopped by the sandbox ({result.limit or 'exit ' + str(result.returncode)})"
    passed = sum(ok for ok, _ in verdicts.values())
    return CheckResult(passed, len(examples), tuple(evidence), error)
