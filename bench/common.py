"""Helpers shared by the benchmarks: real code to feed the models, medians, tables."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def real_code(chars: int = 60000) -> str:
    """Python that no one here wrote: the standard library's own modules."""
    import argparse
    import difflib
    import inspect

    text = "".join(Path(inspect.getfile(m)).read_text(encoding="utf-8") for m in (argparse, difflib, textwrap))
    return text[:chars]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def run_worker(python: str, script: Path, args: list[str], timeout: float = 1800) -> dict:
    """Run ``script --worker ...`` in a fresh process (so peak RSS is its own); parse its JSON line."""
    done = subprocess.run([python, str(script), *args], capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "-|-".join("-" * w for w in widths))
    return "\n".join(lines)


def save(name: str, payload: dict) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return path


__all__ = ["median", "peak_rss_mb", "real_code", "run_worker", "save", "sys", "table"]
