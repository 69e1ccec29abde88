"""`ghostwright tune` on a real package no one here wrote: does the tuned model complete its held-out
files better, and what does it forget?

The package is a repository's stand-in: by default mcp 2.3.0 (the Model Context Protocol SDK, MIT,
first published in November 2024 and rewritten since, so after the models' training data was
gathered, as a user's private code is), its wheel downloaded once and pinned by sha256, its
sources unpacked and never imported; or watchdog (a dependency, Apache-2.0, on GitHub since 2010:
the base models have likely read it). For each model: the real command (`ghostwright tune --json`,
in its own process: its wall time and peak RSS are its own), then a HumanEval slice before and
after (greedy pass@1, the chat prompt of bench/humaneval.py, answers checked only in
server/verify's sandbox).

    python bench/tune.py [--package mcp|watchdog] [--models smollm2-135m-instruct,qwen2.5-coder-0.5b-instruct]
                         [--minutes 30] [--humaneval 10] [--holes 60] [--requantize int4]
                         [--tune-options "--context 1024 --precision bf16"]

Held-out exact match and edit similarity are over the same held-out holes for base and tuned
(greedy, one answer each: pass@1), with a paired bootstrap 95% interval of the difference.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import run_worker, save, table

# name -> (pip requirement, the wheel's sha256): sources unpacked from a pinned wheel, never run
DOWNLOADED = {"mcp": ("mcp==2.3.0", "dd0c44c089d16453e8ae31a3877a0054d7a2314caaa81f5e0541b9b1734b2377")}
PACKAGES = ("mcp", "watchdog")


def package_copy(package: str, into: Path) -> Path:
    """The package's sources in a scratch folder: the repository tuned on."""
    target = into / package
    if package == "watchdog":
        import watchdog

        source = Path(watchdog.__file__).resolve().parent
        shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.so"))
        return target
    with zipfile.ZipFile(pinned_wheel(package)) as wheel:
        for member in wheel.namelist():
            if member.startswith(f"{package}/") and member.endswith(".py"):
                (into / member).parent.mkdir(parents=True, exist_ok=True)
                (into / member).write_bytes(wheel.read(member))
    return target


def pinned_wheel(package: str) -> Path:
    """The package's wheel, downloaded once into the Ghostwright cache and checked against its pin."""
    from ghostwright.home import ghostwright_home

    requirement, sha256 = DOWNLOADED[package]
    cache = ghostwright_home() / "bench" / "packages" / package
    pattern = f"{package}-{requirement.split('==')[1]}-*.whl"
    wheels = sorted(cache.glob(pattern))
    if not wheels:
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "--quiet",
                        requirement, "-d", str(cache)], check=True)
        wheels = sorted(cache.glob(pattern))
    if not wheels:
        raise SystemExit(f"pip downloaded no wheel of {requirement} into {cache}")
    digest = hashlib.sha256(wheels[-1].read_bytes()).hexdigest()
    if digest != sha256:
        raise SystemExit(f"{wheels[-1]}: sha256 {digest}, pinned {sha256}: not the wheel measured before")
    return wheels[-1]


def results_name(package: str) -> str:
    return "tune" if package == "watchdog" else f"tune-{package}"  # tune.json holds the first (watchdog) runs


def humaneval_slice(count: int) -> list[dict]:
    from humaneval import load_tasks

    tasks = load_tasks()
    step = max(len(tasks) // count, 1)
    return tasks[::step][:count]


def worker(args: argparse.Namespace) -> None:
    from humaneval import Ours, user_message

    solver = Ours(Path(args.model_dir), args.variant, 2)
    records = []
    for task in json.loads(Path(args.tasks).read_text()):
        started = time.perf_counter()
        answer, _ = solver.answer(user_message(task), 384)
        records.append({"task_id": task["task_id"], "answer": answer, "seconds": time.perf_counter() - started})
    print(json.dumps({"records": records}))


def passed(model_dir: Path, variant: str, tasks: list[dict], scratch: Path) -> int:
    from humaneval import extract_code, passes

    job = scratch / "tasks.json"
    job.write_text(json.dumps(tasks))
    out = run_worker(sys.executable, Path(__file__), ["--worker", "--model-dir", str(model_dir), "--variant", variant,
                                                      "--tasks", str(job)])
    by_id = {t["task_id"]: t for t in tasks}
    return sum(passes(by_id[r["task_id"]], extract_code(r["answer"])) for r in out["records"])


def earlier_results(args: argparse.Namespace) -> dict[str, dict]:
    """The saved results of models not run this time (same package, held-out share and variant):
    each model's run is slow, so one can be rerun alone; each result names its commit."""
    from common import RESULTS

    try:
        saved = json.loads((RESULTS / f"{results_name(args.package)}.json").read_text())
    except (OSError, ValueError):
        return {}
    if (saved.get("package"), saved.get("holdout"), saved.get("variant")) != (args.package, args.holdout,
                                                                             args.variant):
        return {}
    return {m: r for m, r in saved.get("results", {}).items() if m not in args.models.split(",")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--package", choices=PACKAGES, default="mcp", help="the repository tuned on")
    parser.add_argument("--models", default="smollm2-135m-instruct,qwen2.5-coder-0.5b-instruct")
    parser.add_argument("--minutes", type=float, default=30.0, help="training cap per model")
    parser.add_argument("--humaneval", type=int, default=10, help="HumanEval tasks in the forgetting check (0: none)")
    parser.add_argument("--holes", type=int, default=60)
    parser.add_argument("--holdout", type=float, default=0.2, help="share of files held out (more: steadier scores)")
    parser.add_argument("--variant", default="int8", help="the variant compared and checked on HumanEval")
    parser.add_argument("--requantize", default="", help="further variants exported and re-measured, e.g. int4 "
                        "(does the re-rounding keep the adapter's gain?)")
    parser.add_argument("--tune-options", default="", help="more `ghostwright tune` options, e.g. '--context 1024'")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--model-dir", help=argparse.SUPPRESS)
    parser.add_argument("--tasks", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    from ghostwright.export.models import pull_model
    from ghostwright.home import models_dir

    here = Path(__file__).parent  # the code measured is the code at the start (one commit may land meanwhile)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=here).stdout
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True,
                           cwd=here).stdout
    commit = commit.strip() + ("+changes" if dirty.strip() else "")
    scratch = Path(tempfile.mkdtemp(prefix="gw-tune-bench-"))
    repo = package_copy(args.package, scratch)
    tasks = humaneval_slice(args.humaneval) if args.humaneval else []
    results = earlier_results(args)
    for model in args.models.split(","):
        variants = [args.variant, *(v for v in args.requantize.split(",") if v)]
        pull_model(model, tuple(variants))
        name = f"{model}-tuned-{args.package}"
        command = [sys.executable, "-m", "ghostwright.cli", "tune", str(repo), "--base", model, "--name", name,
                   "--minutes", str(args.minutes), "--holes", str(args.holes), "--holdout", str(args.holdout),
                   "--variants", ",".join(variants), "--json", *shlex.split(args.tune_options)]
        started = time.monotonic()
        done = subprocess.run(command, stdout=subprocess.PIPE, text=True)
        if done.returncode != 0:
            raise SystemExit(f"{model}: ghostwright tune failed ({done.returncode})")
        result = json.loads(done.stdout)
        result["command_wall_s"] = time.monotonic() - started
        result["commit"] = commit
        if tasks:
            result["humaneval_slice"] = {"tasks": len(tasks),
                                         "base": passed(models_dir() / model, args.variant, tasks, scratch),
                                         "tuned": passed(models_dir() / name, args.variant, tasks, scratch)}
        results[model] = result
        save(results_name(args.package),
             {"package": args.package, "holdout": args.holdout, "variant": args.variant, "results": results})
    rows = [["model", "minutes", "tok/s (loss / all)", "tokens (loss)", "wall", "peak RSS", "held-out loss",
             "exact (of holes)", "edit sim", "exact diff 95% CI", "HumanEval slice"]]
    for model, r in results.items():
        t, up = r["training"], r["uplift"]
        lo, hi = up["exact_difference"]["ci95"]
        he = r.get("humaneval_slice")
        rows.append([model, f"{r['settings']['minutes']:g}", f"{t['tokens_per_s']:.0f} / {t['processed_per_s']:.0f}",
                     f"{t['trained_tokens']:,}",
                     f"{r['command_wall_s'] / 60:.1f} min",
                     f"{r['peak_rss_mb']:.0f} MB", f"{t['history'][0]['held_out_loss']:.3f} -> {t['best_loss']:.3f}",
                     f"{up['base']['exact']} -> {up['tuned']['exact']} ({up['holes']})",
                     f"{up['base']['edit_similarity']:.3f} -> {up['tuned']['edit_similarity']:.3f}",
                     f"{lo * 100:+.1f} .. {hi * 100:+.1f} pts",
                     f"{he['base']} -> {he['tuned']} of {he['tasks']}" if he else "-"])
    print(table(rows))
    for model, r in results.items():
        for variant, up in r.get("uplift_by_variant", {}).items():
            if variant != r["variant"]:
                lo, hi = up["exact_difference"]["ci95"]
                print(f"{model} {variant} (against base {up['base_variant']}): exact {up['base']['exact']} -> "
                      f"{up['tuned']['exact']} ({lo * 100:+.1f} .. {hi * 100:+.1f} pts), edit sim "
                      f"{up['base']['edit_similarity']:.3f} -> {up['tuned']['edit_similarity']:.3f}")


if __name__ == "__main__":
    main()
