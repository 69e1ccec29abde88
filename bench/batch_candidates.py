"""Batched candidates: N sampled answers to one chat prompt, one after another vs one batch.

Implement decodes its candidates after the first as one batch (``OnnxEngine.generate_batch``):
each step runs every unfinished answer in one forward pass, so the weights are read once for
all rows. This measures what that buys on the default model's full tier: the wall time of N
answers (HumanEval-sized prompts, the Implement prompt's shape, temperature 0.5, up to 256
tokens), decoded one at a time through ``engine.generate`` and as one ``generate_batch``,
the prompt already in a slot both ways (as for Implement's candidates after the first).
Medians over the prompts; tokens/s counts every generated token of every answer.

    python bench/batch_candidates.py [--threads 2] [--rows 2,4,8] [--prompts 5]
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import default_model, median, save, table
from humaneval import load_tasks, user_message


def answers(streams: list) -> list[int]:
    """Read every stream in its own thread (as the server does); tokens each answer generated."""
    counts = [0] * len(streams)

    def read(i: int) -> None:
        for chunk in streams[i]:
            if chunk.done:
                counts[i] = chunk.stats.generated_tokens

    threads = [threading.Thread(target=read, args=(i,)) for i in range(len(streams))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rows", default="2,4,8")
    parser.add_argument("--prompts", type=int, default=5, help="HumanEval tasks 0, 10, 20, … used as prompts")
    parser.add_argument("--max-tokens", type=int, default=256)
    args = parser.parse_args()
    from ghostwright.export.catalogue import DEFAULT_PROFILE, PROFILES
    from ghostwright.inference import GenerationRequest, load_engine
    from ghostwright.inference.api import SamplingParams

    variant = PROFILES[DEFAULT_PROFILE].full.variant
    model_dir, _ = default_model((variant,))
    engine = load_engine(model_dir / variant, device="cpu", threads=args.threads, max_slots=2)
    tasks = load_tasks()[: 10 * args.prompts : 10]
    results: dict[str, dict] = {}
    try:
        for rows in (int(r) for r in args.rows.split(",")):
            timings: dict[str, list[float]] = {"alone": [], "batch": []}
            rates: dict[str, list[float]] = {"alone": [], "batch": []}
            for task in tasks:
                prompt = engine.chat_prompt([{"role": "user", "content": user_message(task)}])

                def requests(prompt=prompt, rows=rows) -> list[GenerationRequest]:
                    return [GenerationRequest(prompt, max_tokens=args.max_tokens,
                                              sampling=SamplingParams(temperature=0.5, top_p=0.95, seed=1000 + i))
                            for i in range(rows)]

                answers([engine.generate(requests()[0])])  # the prompt into a slot, as after Implement's first
                for how in ("alone", "batch"):
                    started = time.perf_counter()
                    if how == "alone":
                        tokens = sum(answers([engine.generate(r)])[0] for r in requests())
                    else:
                        tokens = sum(answers(engine.generate_batch(requests())))
                    seconds = time.perf_counter() - started
                    timings[how].append(seconds)
                    rates[how].append(tokens / seconds)
            results[str(rows)] = {
                "alone_s": median(timings["alone"]), "batch_s": median(timings["batch"]),
                "alone_tokens_per_s": median(rates["alone"]), "batch_tokens_per_s": median(rates["batch"]),
                "speed_up": median([a / b for a, b in zip(timings["alone"], timings["batch"], strict=True)]),
            }
            print(f"{rows} rows: {results[str(rows)]}", file=sys.stderr, flush=True)
    finally:
        engine.close()
    header = ["answers", "one at a time: s (tokens/s)", "one batch: s (tokens/s)", "speed-up (median of prompts)"]
    print(f"{len(tasks)} prompts, {variant} full tier, {args.threads} threads, temperature 0.5, ≤ {args.max_tokens} "
          "tokens each; medians")
    print(table([header] + [[rows, f"{r['alone_s']:.2f} ({r['alone_tokens_per_s']:.1f})",
                             f"{r['batch_s']:.2f} ({r['batch_tokens_per_s']:.1f})", f"{r['speed_up']:.2f}×"]
                            for rows, r in results.items()]))
    save("batch_candidates", {"model": model_dir.name, "variant": variant, "threads": args.threads,
                              "prompts": len(tasks), "max_tokens": args.max_tokens, "rows": results})


if __name__ == "__main__":
    main()
