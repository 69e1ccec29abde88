"""Secret redaction: recall and false-positive rate on our corpus, and cost per prompt.

Rows: the regular expressions before issue 16 (read from git, commit beb86e4), our
patterns alone, detect-secrets alone (with our filters), and both (what ``redact`` does).
Cost: milliseconds to redact a 4 KB prompt of real code (the standard library's) with a
few config lines in it, cold (empty caches), warm (the same prompt again) and per
keystroke (one line of it changed), medians over repeats.

    python bench/secret_corpus.py [--repeats 20]

The corpus is tests/unit/server/data/secrets (our own samples; see its README).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from common import RESULTS, median, real_code  # noqa: E402

from ghostwright.server.context import secret_scan  # noqa: E402
from ghostwright.server.context.secret_patterns import redact_patterns  # noqa: E402
from ghostwright.server.context.secrets import redact  # noqa: E402
from support.secret_corpus import load, score  # noqa: E402

BEFORE = "beb86e4"  # the last commit before detect-secrets


def before_issue_16() -> Callable[[str], str] | None:
    """``redact`` as it was at ``BEFORE``, or None without git history."""
    done = subprocess.run(["git", "show", f"{BEFORE}:server/context/secrets.py"], cwd=HERE.parent,
                          capture_output=True, text=True)
    if done.returncode != 0:
        return None
    path = Path(tempfile.mkdtemp()) / "secrets_before.py"
    path.write_text(done.stdout, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("secrets_before", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module.redact


def prompt() -> str:
    """About 4 KB of real code with config lines, as a prompt window would hold."""
    lines = real_code(3600).splitlines()
    config = ['DATABASE_URL = "postgres://app:hunter2x@db/app"', "API_TOKEN = os.environ['API_TOKEN']",
              'headers = {"Authorization": f"Bearer {token}"}', 'SECRET_KEY = "django-insecure-0123456789abc"']
    for i, line in enumerate(config):
        lines.insert(10 + 20 * i, line)
    return "\n".join(lines)


def cost_ms(fn: Callable[[str], str], text: str, repeats: int) -> dict[str, float]:
    """Median ms per call: cold (caches cleared), warm, and after a one-line edit."""
    cold, warm, key = [], [], []
    for i in range(repeats):
        secret_scan.secret_values.cache_clear()
        t0 = time.perf_counter()
        fn(text)
        t1 = time.perf_counter()
        fn(text)
        t2 = time.perf_counter()
        fn(text + f"\n    value = compute_{i}(")  # a keystroke: the last line is new
        t3 = time.perf_counter()
        cold.append(t1 - t0)
        warm.append(t2 - t1)
        key.append(t3 - t2)
    return {k: round(median(v) * 1000, 3) for k, v in (("cold", cold), ("warm", warm), ("keystroke", key))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()

    tps = {"main": load("true_positives"), "heldout": load("heldout_true_positives")}
    fps = {"main": load("false_positives"), "heldout": load("heldout_false_positives")}
    variants = {"patterns only": redact_patterns, "detect-secrets only": secret_scan.redact_lines, "both": redact}
    before = before_issue_16()
    if before:
        variants = {f"before ({BEFORE})": before, **variants}
    text = prompt()
    print(f"corpus: {len(tps['main'])}+{len(tps['heldout'])} true positives, "
          f"{len(fps['main'])}+{len(fps['heldout'])} false positives; prompt {len(text)} chars\n")
    print("| redaction | recall | FP rate | held-out recall | held-out FP rate | ms cold | ms warm | ms keystroke |")
    print("|---|---|---|---|---|---|---|---|")
    results = {}
    for name, fn in variants.items():
        main_score, held = score(fn, tps["main"], fps["main"]), score(fn, tps["heldout"], fps["heldout"])
        ms = cost_ms(fn, text, args.repeats)
        results[name] = {"recall": main_score.recall, "fp_rate": main_score.fp_rate,
                         "heldout_recall": held.recall, "heldout_fp_rate": held.fp_rate, "ms": ms}
        print(f"| {name} | {main_score.recall:.3f} | {main_score.fp_rate:.3f} | {held.recall:.3f} | "
              f"{held.fp_rate:.3f} | {ms['cold']} | {ms['warm']} | {ms['keystroke']} |")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "secret_corpus.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
