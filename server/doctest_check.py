"""Check a candidate implementation against the examples its docstring gives, in the sandbox.

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
PROBE_BUDGET_S = 1.0  # all probes together, after the examples (one probe: 0.25 s at most)
_SEPARATOR = re.compile(r"\s*(==>|==|=>|➞|->|#\s*=>|#\s*returns?|returns?|should\s+return|=)\s*")
_WORDS = {"true": "True", "false": "False", "none": "None"}

_HARNESS = r"""
import ast, doctest, io, json, re, signal, sys, time
mark, globs = sys.argv[1], {"__name__": "__candidate__"}
chunks, examples = json.load(open("chunks.json")), json.load(open("examples.json"))
probes, probe_budget = json.load(open("probes.json"))
out = sys.stdout
def say(**kw):
    out.write(mark + json.dumps(kw) + "\n")
    out.flush()
def same(want, got):  # == as doctest's text would see it: 0 is not False, [1] is not [True]
    if isinstance(want, bool) != isinstance(got, bool):
        return False
    try:
        if not bool(want == got):
            return False
    except Exception:
        return False
    if isinstance(want, (list, tuple)) and isinstance(got, (list, tuple)):
        return all(same(w, g) for w, g in zip(want, got))
    return True
def canon(value, depth=0):  # a spelling of a value that is the same in every process
    if depth > 4:
        return "..."
    if isinstance(value, float):
        return repr(round(value, 6))
    if isinstance(value, (set, frozenset)):
        return "{" + ", ".join(sorted(canon(v, depth + 1) for v in value)) + "}"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(canon(v, depth + 1) for v in value[:64])
        return ("[%s]" if isinstance(value, list) else "(%s)") % inner
    if isinstance(value, dict):
        items = list(value.items())[:64]
        return "{" + ", ".join(f"{canon(k, depth + 1)}: {canon(v, depth + 1)}" for k, v in items) + "}"
    return re.sub(r" at 0x[0-9a-f]+", "", repr(value))[:300]
for source, target in chunks:
    try:
        exec(compile(source, "candidate.py", "exec"), globs)
    except BaseException as exc:
        if target:
            say(load_error=f"{type(exc).__name__}: {exc}")
            sys.exit(0)
checker = doctest.OutputChecker()
flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE | doctest.DONT_ACCEPT_TRUE_FOR_1
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
                ok = same(ast.literal_eval(want.strip()), ast.literal_eval(got.strip()))
            except Exception:
                pass
        say(i=i, ok=ok, got=got)
        continue
    try:
        got = eval(source, globs)
        say(i=i, ok=same(eval(want, {}), got), got=repr(got))
    except BaseException as exc:
        say(i=i, ok=False, got=f"{type(exc).__name__}: {exc}")
class Overtime(BaseException):
    pass
def overtime(signum, frame):
    raise Overtime()
signal.signal(signal.SIGALRM, overtime)
deadline = time.monotonic() + probe_budget
for i, source in enumerate(probes):
    if time.monotonic() > deadline:
        break
    sys.stdout = io.StringIO()  # what the candidate prints is not its answer
    try:
        signal.setitimer(signal.ITIMER_REAL, min(0.25, max(0.01, deadline - time.monotonic())))
        result = "= " + canon(eval(source, globs))
    except Overtime:
        result = "! timeout"
    except BaseException as exc:
        result = "! " + type(exc).__name__
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        sys.stdout = out
    say(p=i, out=result)
"""


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
    outputs: tuple[str | None, ...] = ()  # per probe: "= value" or "! Exception", None if not run

    @property
    def all_passed(self) -> bool:
        return self.total > 0 and self.passed == self.total

    def summary(self) -> str:
        return f"{self.passed}/{self.total} examples pass" if self.total else "no examples to check"


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


def check_candidate(chunks: list[str] | list[tuple[str, bool]], examples: list[Example],
                    limits: Limits = CHECK_LIMITS, probes: list[str] | None = None) -> CheckResult:
    """Run ``examples`` against the module made of ``chunks`` (the last, or each marked True, is
    the candidate: if it fails to load, nothing passes), then the ``probes`` (calls with no
    expected output, see :mod:`probe_inputs`), whose outputs are only recorded. Blocking: call
    it from a thread."""
    probes = probes or []
    if not examples and not probes:
        return CheckResult(0, 0, ())
    marked = [c if isinstance(c, tuple) else (c, i == len(chunks) - 1) for i, c in enumerate(chunks)]
    mark = f"@@{secrets.token_hex(8)}@@"
    payload = [[e.source, e.want, e.exact] for e in examples]
    result = run_python(_HARNESS, args=(mark,), limits=limits,
                        files={"chunks.json": json.dumps(marked), "examples.json": json.dumps(payload),
                               "probes.json": json.dumps([probes, PROBE_BUDGET_S])})
    verdicts: dict[int, tuple[bool, str]] = {}
    outputs: list[str | None] = [None] * len(probes)
    for line in result.stdout.splitlines():
        if not line.startswith(mark):
            continue
        try:
            record = json.loads(line[len(mark) :])
        except ValueError:
            continue
        if "load_error" in record:
            return CheckResult(0, len(examples), (), f"the candidate does not load: {record['load_error']}")
        if "p" in record and 0 <= int(record["p"]) < len(probes):
            outputs[int(record["p"])] = str(record["out"])
        elif "i" in record:
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
    return CheckResult(passed, len(examples), tuple(evidence), error, tuple(outputs))
