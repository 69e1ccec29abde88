"""How faithfully a bundle computes its GGUF: teacher-forced next-token agreement with llama.cpp.

Both engines read the very same token ids of real code (the standard library's, which no one
here wrote) and each position's argmax is compared: the share of positions where our bundle
picks llama.cpp's token, and the mean |difference| of the two log-probabilities given to
llama.cpp's choice. A quantized bundle that re-rounds the GGUF's blocks, or a numeric bug,
shows up here long before it shows in a pass rate (a greedy HumanEval run flips on a handful
of near ties and takes 20 minutes per engine).

    python bench/peer_agreement.py --peer-python /opt/peer-venv/bin/python [--bundles int8,int4] [--tokens 1024]

A bundle is a variant name of the default model or a path to a bundle folder.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import default_model, real_code, run_worker, save, table

WINDOW = 512  # tokens per teacher-forced window (both engines see the same windows)


def log_softmax(rows: np.ndarray) -> np.ndarray:
    shifted = rows - rows.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def peer_worker(gguf: str, ids_path: str, threads: int) -> dict:
    """Runs in the peer's Python (llama_cpp, no Ghostwright): argmax and log-probabilities per position."""
    from llama_cpp import Llama

    windows = json.loads(Path(ids_path).read_text())
    llm = Llama(model_path=gguf, n_ctx=WINDOW + 8, n_threads=threads, n_threads_batch=threads, logits_all=True,
                verbose=False)
    argmax, rows = [], []
    for ids in windows:
        llm.reset()
        llm.eval(ids)
        scores = np.array(llm.scores[: len(ids)], dtype=np.float64)
        logp = log_softmax(scores)
        top = logp.argmax(axis=-1)
        argmax.append(top.tolist())
        rows.append(logp[np.arange(len(ids)), top].tolist())
    return {"argmax": argmax, "logp": rows}


def ours(bundle: Path, windows: list[list[int]], peer: dict, prefill: int) -> dict:
    """With ``prefill`` the first tokens of each window go through one forward pass, as a prompt
    does, and only the positions after them are scored: each of those reads the KV cache that
    prefill wrote, so a prefill-only error (activations quantized over many rows) shows there."""
    from ghostwright.inference.decoder import Decoder
    from ghostwright.inference.manifest import read_manifest

    decoder = Decoder(read_manifest(bundle), "cpu")
    agree = total = 0
    diffs = []
    for ids, peer_top, peer_logp in zip(windows, peer["argmax"], peer["logp"], strict=True):
        cache = decoder.allocate_cache(len(ids) + 1)
        start = min(prefill, len(ids) - 1)
        if start:
            decoder.forward(cache, ids[:start], 0)
        for pos in range(start, len(ids)):  # one token a step: every position's logits, as decoding sees them
            logp = log_softmax(decoder.forward(cache, [ids[pos]], pos).astype(np.float64)[None])[0]
            agree += int(logp.argmax() == peer_top[pos])
            diffs.append(abs(logp[peer_top[pos]] - peer_logp[pos]))
            total += 1
    return {"positions": total, "top1_agreement": agree / total, "mean_abs_logp_diff": float(np.mean(diffs))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peer-python", default=sys.executable, help="a python with llama_cpp installed")
    parser.add_argument("--bundles", default="int8,int4", help="variants of the default model, or bundle folders")
    parser.add_argument("--tokens", type=int, default=1024)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--prefill", type=int, default=0,
                        help="tokens of each window given in one forward pass; only the later positions are scored")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--gguf", help=argparse.SUPPRESS)
    parser.add_argument("--ids", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(peer_worker(args.gguf, args.ids, args.threads)))
        return
    from ghostwright.inference.manifest import read_manifest
    from ghostwright.inference.tokenization import TextTokenizer

    names = [b.strip() for b in args.bundles.split(",") if b.strip()]
    variants = tuple(n for n in names if "/" not in n)
    model_dir, gguf = default_model(variants or None)
    bundles = {n: Path(n) if "/" in n else model_dir / n for n in names}
    manifest = read_manifest(next(iter(bundles.values())))
    tokenizer = TextTokenizer(manifest.tokenizer_path, manifest.config.vocab_size, None, False)
    ids = tokenizer.encode_text(real_code())[: args.tokens]
    windows = [ids[i : i + WINDOW] for i in range(0, len(ids), WINDOW)]
    with tempfile.TemporaryDirectory() as tmp:
        ids_path = Path(tmp) / "ids.json"
        ids_path.write_text(json.dumps(windows))
        peer = run_worker(args.peer_python, Path(__file__), ["--worker", "--gguf", str(gguf), "--ids", str(ids_path),
                                                             "--threads", str(args.threads)])
    results = {name: ours(path, windows, peer, args.prefill) for name, path in bundles.items()}
    rows = [["bundle", "positions", "top-1 = llama.cpp's", "mean |log p diff| of its token"]]
    rows += [[n, str(r["positions"]), f"{r['top1_agreement']:.1%}", f"{r['mean_abs_logp_diff']:.3f}"]
             for n, r in results.items()]
    print(f"teacher-forced on {len(ids)} tokens of standard-library Python, windows of {WINDOW}"
          + (f", the first {args.prefill} of each prefilled" if args.prefill else ""))
    print(table(rows))
    save("peer_agreement" + (f"_prefill{args.prefill}" if args.prefill else ""),
         {"tokens": len(ids), "window": WINDOW, "prefill": args.prefill, "gguf": gguf.name,
                            "results": {n: {**r, "bundle": str(bundles[n])} for n, r in results.items()}})


if __name__ == "__main__":
    main()
