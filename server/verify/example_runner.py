"""The program that runs in the sandbox: load a candidate, run its examples, then probe it.

It is a file of its own so that ruff and readers see it as Python; ``doctest_check`` sends its
source into the sandbox as ``main.py`` (nothing here is imported by the server). Inputs come as
files beside it (``chunks.json``, ``examples.json``, ``probes.json``); every verdict is a line
that starts with the per-run nonce given as the first argument, so the candidate's own prints
cannot pass for one by accident.
"""

import ast
import contextlib
import doctest
import io
import json
import re
import signal
import sys
import time


class Overtime(BaseException):
    """A probe ran past its slice of the budget (BaseException: the candidate's ``except Exception`` cannot eat it)."""


def same(want: object, got: object) -> bool:
    """== as doctest's text would see it: 0 is not False, [1] is not [True]."""
    if isinstance(want, bool) != isinstance(got, bool):
        return False
    try:
        if not bool(want == got):
            return False
    except Exception:
        return False
    if isinstance(want, (list, tuple)) and isinstance(got, (list, tuple)):
        return all(same(w, g) for w, g in zip(want, got, strict=False))
    return True


def canon(value: object, depth: int = 0) -> str:
    """A spelling of a value that is the same in every process (no addresses, sets sorted)."""
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


class Recorder(doctest.DocTestRunner):
    """Keeps the verdict of the one example it runs instead of printing a report."""

    result: tuple[bool, str] = (False, "")

    def report_success(self, out, test, example, got):  # type: ignore[no-untyped-def]
        self.result = (True, got)

    def report_failure(self, out, test, example, got):  # type: ignore[no-untyped-def]
        self.result = (False, got)

    def report_unexpected_exception(self, out, test, example, exc_info):  # type: ignore[no-untyped-def]
        self.result = (False, f"{exc_info[0].__name__}: {exc_info[1]}")


def main() -> None:
    mark, globs = sys.argv[1], {"__name__": "__candidate__"}
    with open("chunks.json") as f:
        chunks = json.load(f)
    with open("examples.json") as f:
        examples = json.load(f)
    with open("probes.json") as f:
        probes, probe_budget = json.load(f)
    out = sys.stdout

    def say(**fields: object) -> None:
        out.write(mark + json.dumps(fields) + "\n")
        out.flush()

    for source, target in chunks:
        try:
            exec(compile(source, "candidate.py", "exec"), globs)
        except BaseException as exc:
            if target:
                say(load_error=f"{type(exc).__name__}: {exc}")
                sys.exit(0)
    checker = doctest.OutputChecker()
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE | doctest.DONT_ACCEPT_TRUE_FOR_1
    for i, (source, want, exact) in enumerate(examples):
        if exact:
            runner = Recorder(checker, optionflags=flags)
            runner.run(doctest.DocTest([doctest.Example(source, want)], globs, "example", None, 0, None),
                       out=lambda text: None, clear_globs=False)
            ok, got = runner.result
            if not ok:  # "21" for '21': the same value, spelled otherwise
                with contextlib.suppress(Exception):
                    ok = same(ast.literal_eval(want.strip()), ast.literal_eval(got.strip()))
            say(i=i, ok=ok, got=got)
            continue
        try:
            got = eval(source, globs)
            say(i=i, ok=same(eval(want, {}), got), got=repr(got))
        except BaseException as exc:
            say(i=i, ok=False, got=f"{type(exc).__name__}: {exc}")

    def overtime(signum, frame):  # type: ignore[no-untyped-def]
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


if __name__ == "__main__":
    main()
