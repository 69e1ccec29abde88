"""Ghostwright vs llama.cpp (llama-cpp-python) on the same default GGUF, same threads.

Measures, each engine in its own process, medians over repeats:
  prefill tokens/s at 32, 512 and 1024 prompt tokens (cold cache);
  decode tokens/s for 128 tokens after a 512-token prompt (greedy);
  re-prompt: time to the first new token after a one-character edit of a 512-token
  prompt, as a fraction of a cold prompt (both engines reuse their cached prefix);
  peak RSS.
Our variants run separately: int8 (the CPU's "full" tier), fp32, and int4 (the "mini" tier).

    python bench/decode.py --peer-python /opt/peer-venv/bin/python [--threads 2] [--repeats 5]

llama-cpp-python compiles llama.cpp on install (about 9 minutes on 2 cores):
    python3 -m venv /opt/peer-venv && /opt/peer-venv/bin/pip install llama-cpp-python==0.3.36
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import default_model, median, peak_rss_mb, real_code, run_worker, save, table

PREFILL_LENGTHS = (32, 512, 1024)
DECODE_PROMPT, DECODE_TOKENS = 512, 128


VARIANTS = ("int8", "int4")  # ours, as columns: the CPU full tier, and int4


class Ours:
    def __init__(self, bundle: Path, threads: int) -> None:
        from ghostwright.inference import load_engine

        self.engine = load_engine(bundle, device="cpu", threads=threads, max_slots=2, cache_tokens=2048)
        self.tier = next(iter(self.engine.tiers.values()))
        self.decoder = self.tier.decoder
        self.cache = self.decoder.allocate_cache(2048)

    def tokenize(self, text: str) -> list[int]:
        return self.engine.tokenizer.encode_text(text)

    def prefill(self, ids: list[int]) -> float:
        started = time.perf_counter()
        self.decoder.forward(self.cache, ids, 0)
        return time.perf_counter() - started

    def decode(self, ids: list[int], n: int) -> float:
        logits = self.decoder.forward(self.cache, ids, 0)
        pos = len(ids)
        started = time.perf_counter()
        for _ in range(n):
            token = int(logits.argmax())
            logits = self.decoder.forward(self.cache, [token], pos)
            pos += 1
        return time.perf_counter() - started

    def first_token(self, text: str) -> float:
        """Wall time to the first generated token through the engine (prefix reuse included)."""
        from ghostwright.inference import GenerationRequest, Prompt

        started = time.perf_counter()
        list(self.engine.generate(GenerationRequest(prompt=Prompt.text(text), max_tokens=1, tier=self.tier.name)))
        return time.perf_counter() - started

    def forget(self) -> None:
        for slot in self.tier.pool.slots:
            slot.tokens.clear()


class LlamaCpp:
    def __init__(self, gguf: Path, threads: int) -> None:
        from llama_cpp import Llama

        self.llm = Llama(model_path=str(gguf), n_ctx=2048, n_threads=threads, n_threads_batch=threads,
                         n_batch=1024, verbose=False)

    def tokenize(self, text: str) -> list[int]:
        return self.llm.tokenize(text.encode(), add_bos=False, special=False)

    def prefill(self, ids: list[int]) -> float:
        self.llm.reset()
        started = time.perf_counter()
        self.llm.eval(ids)
        return time.perf_counter() - started

    def decode(self, ids: list[int], n: int) -> float:
        import numpy as np

        self.llm.reset()
        self.llm.eval(ids)
        started = time.perf_counter()
        for _ in range(n):
            token = int(np.argmax(self.llm.scores[self.llm.n_tokens - 1]))
            self.llm.eval([token])
        return time.perf_counter() - started

    def first_token(self, text: str) -> float:
        started = time.perf_counter()
        self.llm.create_completion(text, max_tokens=1, temperature=0.0)
        return time.perf_counter() - started

    def forget(self) -> None:
        self.llm.reset()  # n_tokens = 0: its prefix cache is empty


def measure(engine: Ours | LlamaCpp, repeats: int) -> dict:
    code = real_code()
    ids = engine.tokenize(code)
    out: dict = {"prefill_tokens_per_s": {}, "threads": None}
    engine.prefill(ids[:64])  # warm up
    for n in PREFILL_LENGTHS:
        times = [engine.prefill(ids[:n]) for _ in range(repeats)]
        out["prefill_tokens_per_s"][str(n)] = n / median(times)
    times = [engine.decode(ids[:DECODE_PROMPT], DECODE_TOKENS) for _ in range(repeats)]
    out["decode_tokens_per_s"] = DECODE_TOKENS / median(times)
    # Re-prompt after a one-character edit at the end of a ~512-token prompt.
    text = engine_text = code[: int(len(code) * DECODE_PROMPT / len(ids))]
    colds, edits = [], []
    for i in range(repeats):
        engine.forget()
        colds.append(engine.first_token(engine_text + f"#{i}"))
        edits.append(engine.first_token(engine_text + f"#{i}x"))
    out["cold_prompt_s"] = median(colds)
    out["reprompt_after_edit_s"] = median(edits)
    out["prompt_chars"] = len(text)
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def worker(args: argparse.Namespace) -> None:
    if args.worker == "llama.cpp":
        engine: Ours | LlamaCpp = LlamaCpp(Path(args.gguf), args.threads)
    else:
        engine = Ours(Path(args.model_dir) / args.worker, args.threads)
    print(json.dumps(measure(engine, args.repeats)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peer-python", default=sys.executable, help="a python with llama_cpp installed")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--gguf", help=argparse.SUPPRESS)
    parser.add_argument("--model-dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return

    model_dir, gguf = default_model(VARIANTS)
    common = ["--threads", str(args.threads), "--repeats", str(args.repeats)]
    script = Path(__file__).resolve()
    results = {"llama.cpp": run_worker(args.peer_python, script,
                                        ["--worker", "llama.cpp", "--gguf", str(gguf), *common])}
    for variant in VARIANTS:
        results[variant] = run_worker(sys.executable, script, ["--worker", variant, "--model-dir", str(model_dir),
                                                               *common])
    peer = results["llama.cpp"]
    rows = [["metric", f"llama.cpp {gguf.name}", "ours int8", "ratio", "ours int4 (default full tier)", "ratio"]]

    def row(name: str, get, higher_is_better: bool = True, fmt: str = "{:.0f}") -> None:
        cells = [name, fmt.format(get(peer))]
        for tier in VARIANTS:
            ours = get(results[tier])
            ratio = ours / get(peer) if higher_is_better else get(peer) / ours
            cells += [fmt.format(ours), f"{ratio:.2f}x"]
        rows.append(cells)

    for n in PREFILL_LENGTHS:
        row(f"prefill {n} tok (tok/s)", lambda r, n=n: r["prefill_tokens_per_s"][str(n)])
    row(f"decode {DECODE_TOKENS} after {DECODE_PROMPT} (tok/s)", lambda r: r["decode_tokens_per_s"])
    row("cold 512-tok prompt (ms)", lambda r: r["cold_prompt_s"] * 1e3, higher_is_better=False)
    row("re-prompt after 1 char (ms)", lambda r: r["reprompt_after_edit_s"] * 1e3, higher_is_better=False)
    row("peak RSS (MB)", lambda r: r["peak_rss_mb"], higher_is_better=False)
    for r in results.values():
        r["reprompt_fraction_of_cold"] = r["reprompt_after_edit_s"] / r["cold_prompt_s"]
    print(f"machine: {platform.processor() or platform.machine()}, {args.threads} threads, medians of {args.repeats}")
    print("ratio > 1 means Ghostwright is better (faster, or less memory)")
    print(table(rows))
    print("re-prompt / cold: " + ", ".join(f"{k} {v['reprompt_fraction_of_cold']:.3f}" for k, v in results.items()))
    save("decode", {"threads": args.threads, "repeats": args.repeats, "results": results})


if __name__ == "__main__":
    main()
