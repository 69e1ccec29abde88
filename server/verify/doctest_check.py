"""Check a candidate implementation against the examples its docstring gives, in the sandbox.

    examples = extract_examples(docstring, "add")         # see examples.py
    result = check_candidate(["import math", candidate_source], examples)
    result.passed, result.total, result.evidence

The candidate's module is given as chunks (imports, neighbouring definitions, the candidate)
that run one by one, so one import that the sandbox lacks does not hide the others. The
program that runs them is ``example_runner.py``. The verdict comes from lines carrying a
per-run nonce; code written to forge it could, since it runs in the same interpreter: this
ranks honest model output, it is not a proof.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path

from ghostwright.server.verify.examples import Example
from ghostwright.server.verify.sandbox import Limits, run_python

CHECK_LIMITS = Limits(timeout_s=4, cpu_s=3, memory_mb=512)
PROBE_BUDGET_S = 1.0  # all probes together, after the examples (one probe: 0.25 s at most)
RUNNER = Path(__file__).with_name("example_runner.py")


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
    result = run_python(RUNNER.read_text(encoding="utf-8"), args=(mark,), limits=limits,
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
