"""Many editors, one engine: N simulated editors typing at once (the typing replay), each its
own `ghostwright serve`, either each with its own model (separate) or all on one
`ghostwright engine serve` on loopback (shared, through `backendUrl`).

Reported per mode: p50/p95 keystroke -> answer over answered requests (a request the next
keystroke cancelled is not answered), suggestions shown, errors (must be 0), and the total
resident memory of every process involved, the peak while they type (VmRSS, sampled each second; the
editors' servers plus, when shared, the engine server). Loops are bounded: each editor types
``--chars`` characters at ``--cps``, all starting together once every model has loaded.

    python bench/engine_load.py [--editors 3,8] [--chars 160] [--cps 6]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from common import save, table
from typing_replay import percentile, replay, source_text

from support.engine_server import launch


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def children_rss_mb(parent: int, skip: int | None = None) -> dict[int, float]:
    """RSS of the direct children of ``parent`` (the editors' `ghostwright serve` processes),
    leaving out ``skip`` (the engine server, also a child and also named `serve`)."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == skip:
            continue
        try:
            stat = (entry / "stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[1]) == parent and b"serve" in (entry / "cmdline").read_bytes():
                out[int(entry.name)] = rss_mb(int(entry.name))
        except (OSError, ValueError, IndexError):
            continue
    return out


async def editors(count: int, text: str, cps: float, work: Path, options: dict,
                  engine_pid: int | None) -> tuple[list[dict], float, float]:
    import os

    samples: list[float] = []
    engine_samples: list[float] = [0.0]

    async def sample() -> None:  # memory while they type: the peak of the editors' sum, the engine's peak
        while True:
            await asyncio.sleep(1.0)
            samples.append(sum(children_rss_mb(os.getpid(), engine_pid).values()))
            if engine_pid is not None:
                engine_samples.append(rss_mb(engine_pid))

    sampler = asyncio.create_task(sample())
    start = asyncio.Barrier(count)  # all type at once, whichever loads its model first
    runs = [replay(text, cps, work / f"home{i}", work / f"trace{i}.jsonl", {"debounceMs": 60, **options}, start)
            for i in range(count)]
    results = await asyncio.gather(*runs)
    sampler.cancel()
    return list(results), max(samples or [0.0]), max(engine_samples)


def model_call_latencies(work: Path, count: int) -> list[float]:
    """Server-side, request to answer, of the requests that reached the model (the traces the
    editors' servers wrote): what the shared engine changes. A typed-ahead hit is not among them."""
    out = []
    for i in range(count):
        trace = work / f"trace{i}.jsonl"
        if trace.exists():
            out += [json.loads(line)["latency_ms"] for line in trace.read_text(encoding="utf-8").splitlines()]
    return out


def summarize(mode: str, count: int, results: list[dict], editors_mb: float, engine_mb: float, wall: float,
              calls: list[float]) -> dict:
    latencies = [r["latency_p50_ms"] for r in results]
    return {"model_calls": len(calls), "typed_ahead_hits": sum(r["typed_ahead_hits"] for r in results),
            "model_call_p50_ms": percentile(calls, 50), "model_call_p95_ms": percentile(calls, 95),
            "mode": mode, "editors": count, "keystrokes": sum(r["keystrokes"] for r in results),
            "answered": sum(r["answered"] for r in results), "shown": sum(r["shown"] for r in results),
            "errors": sum(r["errors"] for r in results),
            "p50_ms_median_of_editors": percentile(latencies, 50),
            "p95_ms_worst_editor": max(r["latency_p95_ms"] for r in results),
            "editors_peak_rss_mb": editors_mb, "engine_rss_mb": engine_mb,
            "total_rss_mb": editors_mb + engine_mb, "wall_s": wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--editors", default="3,8", help="comma-separated editor counts")
    parser.add_argument("--chars", type=int, default=160)
    parser.add_argument("--cps", type=float, default=6.0)
    parser.add_argument("--modes", default="separate,shared", help="separate, shared or both")
    args = parser.parse_args()
    from ghostwright.export.models import pull_profile

    tiers = pull_profile()
    text = source_text(args.chars)
    rows, results = [["mode", "editors", "answered/keys", "shown", "errors", "p50 ms", "p95 ms (worst)", "model calls",
                      "typed-ahead hits", "model call p50 ms", "p95 ms",
                      "RSS editors MB", "RSS engine MB", "RSS total MB"]], []
    for count in [int(c) for c in args.editors.split(",")]:
        for mode in args.modes.split(","):
            work = Path(tempfile.mkdtemp(prefix=f"gw-load-{mode}-"))
            print(f"{mode}, {count} editors: {work}", flush=True)
            for i in range(count):
                (work / f"home{i}").mkdir()
                (work / f"home{i}" / "models").symlink_to(tiers["full"].parent.parent, target_is_directory=True)
            engine = None
            options: dict = {}
            if mode == "shared":
                (work / "engine").mkdir()
                (work / "engine" / "models").symlink_to(tiers["full"].parent.parent, target_is_directory=True)
                engine = launch(["--max-slots", str(max(4, count))], {"GHOSTWRIGHT_HOME": str(work / "engine")},
                                work / "engine.log")
                options = {"backendUrl": engine.url}
            started = time.monotonic()
            try:
                got, editors_mb, engine_mb = asyncio.run(
                    editors(count, text, args.cps, work, options, engine.process.pid if engine else None))
            finally:
                if engine:
                    engine.stop()
            row = summarize(mode, count, got, editors_mb, engine_mb, time.monotonic() - started,
                            model_call_latencies(work, count))
            results.append({**row, "per_editor": got})
            rows.append([mode, str(count), f"{row['answered']}/{row['keystrokes']}", str(row["shown"]),
                         str(row["errors"]), f"{row['p50_ms_median_of_editors']:.0f}",
                         f"{row['p95_ms_worst_editor']:.0f}", str(row["model_calls"]), str(row["typed_ahead_hits"]),
                         f"{row['model_call_p50_ms']:.0f}", f"{row['model_call_p95_ms']:.0f}",
                         f"{editors_mb:.0f}", f"{engine_mb:.0f}",
                         f"{row['total_rss_mb']:.0f}"])
            print(table(rows[:1] + rows[-1:]), flush=True)
    print(f"{args.chars} characters per editor at {args.cps} keys/s, debounce 60 ms, default profile")
    print(table(rows))
    save(f"engine_load_{args.cps:g}cps", {"chars": args.chars, "cps": args.cps, "runs": results})


if __name__ == "__main__":
    main()
