"""Where a decode step's time goes: onnxruntime's profiler, per op type, after a long prompt.

    python bench/profile_decode.py [--variant int4] [--context 512] [--steps 64]

Profiling adds overhead per node, so the shares matter more than the absolute numbers;
the un-profiled step time is printed alongside for scale.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import onnxruntime as ort

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import default_model, real_code, save, table


def step_time(decoder, ids: list[int], steps: int) -> float:
    cache = decoder.allocate_cache(len(ids) + steps + 1)
    logits = decoder.forward(cache, ids, 0)
    started = time.perf_counter()
    for i in range(steps):
        logits = decoder.forward(cache, [int(logits.argmax())], len(ids) + i)
    return (time.perf_counter() - started) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--variant", default="int4", choices=["fp32", "fp16", "int4"])
    parser.add_argument("--context", type=int, default=512)
    parser.add_argument("--steps", type=int, default=64)
    args = parser.parse_args()
    from ghostwright.inference.decoder import Decoder
    from ghostwright.inference.manifest import read_manifest
    from ghostwright.inference.tokenization import TextTokenizer

    bundle = default_model((args.variant,))[0] / args.variant
    manifest = read_manifest(bundle)
    tokenizer = TextTokenizer(manifest.tokenizer_path, manifest.config.vocab_size, None, False)
    ids = tokenizer.encode_text(real_code())[: args.context]
    plain = step_time(Decoder(manifest, "cpu"), ids, args.steps)

    decoder = Decoder(manifest, "cpu")
    options = ort.SessionOptions()
    options.enable_profiling = True
    options.intra_op_num_threads = decoder.session.get_session_options().intra_op_num_threads
    decoder.session = ort.InferenceSession(str(manifest.file("file")), options, providers=["CPUExecutionProvider"])
    decoder.multi_row = False  # a plain session on the exported graph: its slice is not an input
    decoder._bindings.clear()
    decoder._bound_rows.clear()
    step_time(decoder, ids, args.steps)
    events = json.loads(Path(decoder.session.end_profiling()).read_text())
    runs = [e for e in events if e.get("cat") == "Session" and e["name"] == "model_run"]
    after_prefill = runs[0]["ts"] + runs[0]["dur"]
    per_op: dict[str, float] = defaultdict(float)
    count: dict[str, int] = defaultdict(int)
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time") and e["ts"] > after_prefill:
            op = e["args"]["op_name"] + (" (output head)" if "lm_head" in e["name"] else "")
            per_op[op] += e["dur"]
            count[op] += 1
    total = sum(per_op.values())
    rows = [["op", "us/step", "share", "nodes/step"]]
    for op, us in sorted(per_op.items(), key=lambda kv: -kv[1]):
        rows.append([op, f"{us / args.steps:.0f}", f"{us / total:.0%}", f"{count[op] / args.steps:.0f}"])
    print(f"{args.variant}, decode after {len(ids)} tokens: {plain * 1e3:.2f} ms/step un-profiled "
          f"({1 / plain:.0f} tokens/s); kernel time under the profiler:")
    print(table(rows))
    save(f"profile_decode_{args.variant}", {"ms_per_step": plain * 1e3, "context": len(ids),
                                            "kernel_us_per_step": {k: v / args.steps for k, v in per_op.items()}})
    _ = np


if __name__ == "__main__":
    main()
