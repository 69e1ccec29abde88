"""Ghostwright vs llama.cpp (llama-cpp-python) on the same default GGUF, same threads.

Measures, each engine in its own process kept loaded, every engine once a round in turn (the
host's speed drifts by 10-40% over a quarter hour; a ratio is the median of the rounds' ratios):
  prefill tokens/s at 32, 512 and 1024 prompt tokens (cold cache): ours in the engine's prefill
  steps (PREFILL_CHUNK tokens each), llama.cpp in its own (n_batch 1024, n_ubatch 512: 256 or
  128 measured no faster for it);
  decode tokens/s for 128 tokens after a 512-token prompt (greedy): the bare forward loop, and
  a request through each engine's generation API (ours: engine.generate with its sampling,
  detokenizing and stop checks; the peer: create_completion, streamed), first token to last;
  re-prompt: time to the first new token after a one-character edit of a 512-token
  prompt, as a fraction of a cold prompt (both engines reuse their cached prefix);
  peak RSS.
Our columns: w8a8 (the default profile's full tier), int8 and int4.

    python bench/decode.py --peer-python /opt/peer-venv/bin/python [--threads 2] [--repeats 5] \
        [--bundles LABEL=PATH,...]   # more bundles as columns, e.g. an older export, in the same run

llama-cpp-python compiles llama.cpp on install (about 9 minutes on 2 cores):
    python3 -m venv /opt/peer-venv && /opt/peer-venv/bin/pip install llama-cpp-python==0.3.36
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import default_model, median, peak_rss_mb, real_code, save, table

PREFILL_LENGTHS = (32, 512, 1024)
DECODE_PROMPT, DECODE_TOKENS = 512, 128


VARIANTS = ("w8a8", "int8", "int4")  # w8a8: the default full tier


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
        from ghostwright.inference.engine import PREFILL_CHUNK

        started = time.perf_counter()
        for start in range(0, len(ids), PREFILL_CHUNK):
            self.decoder.forward(self.cache, ids[start : start + PREFILL_CHUNK], start)
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

    def generate(self, ids: list[int], n: int) -> tuple[int, float]:
        """(tokens, seconds from the first streamed token to the last) of one greedy request."""
        from ghostwright.inference import GenerationRequest, Prompt

        self.forget()
        request = GenerationRequest(prompt=Prompt.text(self.engine.tokenizer.decode(ids)), max_tokens=n,
                                    tier=self.tier.name)
        first = last = 0.0
        tokens = 0
        for chunk in self.engine.generate(request):
            if chunk.error:
                raise RuntimeError(chunk.error)
            if chunk.text:
                last = time.perf_counter()
                first = first or last
            if chunk.stats:
                tokens = chunk.stats.generated_tokens
        return tokens, last - first

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

    def generate(self, ids: list[int], n: int) -> tuple[int, float]:
        self.llm.reset()
        first = last = 0.0
        tokens = 0
        for part in self.llm.create_completion(ids, max_tokens=n, temperature=0.0, top_k=1, stream=True):
            if not part["choices"][0]["text"]:
                continue  # the closing chunk (finish reason only)
            tokens += 1
            last = time.perf_counter()
            first = first or last
        return tokens, last - first

    def first_token(self, text: str) -> float:
        started = time.perf_counter()
        self.llm.create_completion(text, max_tokens=1, temperature=0.0)
        return time.perf_counter() - started

    def forget(self) -> None:
        self.llm.reset()  # n_tokens = 0: its prefix cache is empty


REPLY = "@@"  # marks a worker's answer on its stdout (anything else there is ignored)


def serve(engine: Ours | LlamaCpp) -> None:
    """Answer one measurement per line of stdin, until it closes: the parent asks every engine in
    turn, so the host's drift (10-40% over a quarter hour on this machine) hits all of them alike."""
    code = real_code()
    ids = engine.tokenize(code)
    engine.prefill(ids[:64])  # warm up
    text = code[: int(len(code) * DECODE_PROMPT / len(ids))]  # ~512 tokens
    for line in sys.stdin:
        op = json.loads(line)
        value: object
        if op["op"] == "prefill":
            value = op["tokens"] / engine.prefill(ids[: op["tokens"]])
        elif op["op"] == "decode":
            value = DECODE_TOKENS / engine.decode(ids[:DECODE_PROMPT], DECODE_TOKENS)
        elif op["op"] == "generate":
            tokens, seconds = engine.generate(ids[:DECODE_PROMPT], DECODE_TOKENS)
            value = [(tokens - 1) / seconds, tokens]
        elif op["op"] == "ready":  # loaded and warm: measuring starts once every engine is
            value = True
        elif op["op"] == "reprompt":  # a cold prompt, then the same after a one-character edit
            engine.forget()
            value = [engine.first_token(text + f"#{op['round']}"), engine.first_token(text + f"#{op['round']}x")]
        else:
            value = {"peak_rss_mb": peak_rss_mb(), "prompt_chars": len(text)}
        print(REPLY + json.dumps(value), flush=True)


class Worker:
    """One engine in its own process (its peak RSS is its own), kept loaded between questions."""

    def __init__(self, python: str, argv: list[str]) -> None:
        self.process = subprocess.Popen([python, str(Path(__file__).resolve()), *argv], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)

    def ask(self, op: dict) -> object:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(op) + "\n")
        self.process.stdin.flush()
        for line in self.process.stdout:
            if line.startswith(REPLY):
                return json.loads(line[len(REPLY):])
        raise RuntimeError(f"worker {self.process.args} exited with {self.process.wait()}")

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait(timeout=60)


def worker(args: argparse.Namespace) -> None:
    if args.worker == "llama.cpp":
        engine: Ours | LlamaCpp = LlamaCpp(Path(args.gguf), args.threads)
    else:
        engine = Ours(Path(args.bundle), args.threads)
    serve(engine)


def measure(workers: dict[str, Worker], repeats: int) -> dict[str, dict[str, list]]:
    """Each measurement ``repeats`` times, every engine in turn (the order rotating each round)."""
    ops = [(f"prefill {n}", {"op": "prefill", "tokens": n}) for n in PREFILL_LENGTHS]
    ops += [("decode", {"op": "decode"}), ("generate", {"op": "generate"})]
    samples: dict[str, dict[str, list]] = {label: defaultdict(list) for label in workers}
    for w in workers.values():  # all load at once; none is measured while another still loads
        w.ask({"op": "ready"})
    labels = list(workers)
    for i in range(repeats):
        order = labels[i % len(labels):] + labels[: i % len(labels)]
        for name, op in [*ops, ("reprompt", {"op": "reprompt", "round": i})]:
            for label in order:
                samples[label][name].append(workers[label].ask(op))
    for label, w in workers.items():
        samples[label]["final"] = [w.ask({"op": "final"})]
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peer-python", default=sys.executable, help="a python with llama_cpp installed")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5, help="rounds: every engine measured once a round")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--gguf", help=argparse.SUPPRESS)
    parser.add_argument("--bundles", default="",
                        help="more columns, LABEL=PATH of a bundle folder each, comma-separated")
    parser.add_argument("--bundle", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return

    model_dir, gguf = default_model(VARIANTS)
    threads = ["--threads", str(args.threads)]
    columns = {variant: model_dir / variant for variant in VARIANTS}
    columns.update((label, Path(path)) for label, path in (b.split("=", 1) for b in args.bundles.split(",") if b))
    workers = {"llama.cpp": Worker(args.peer_python, ["--worker", "llama.cpp", "--gguf", str(gguf), *threads])}
    workers.update((label, Worker(sys.executable, ["--worker", "ours", "--bundle", str(bundle), *threads]))
                   for label, bundle in columns.items())
    try:
        samples = measure(workers, args.repeats)
    finally:
        for w in workers.values():
            w.close()

    results: dict[str, dict] = {label: {"samples": dict(s)} for label, s in samples.items()}
    header = {"w8a8": "ours w8a8 (default full tier)", "int8": "ours int8", "int4": "ours int4"}
    rows = [["metric", f"llama.cpp {gguf.name}"]]
    for label in columns:
        rows[0] += [header.get(label, f"ours {label}"), "ratio"]

    def row(name: str, key: str, get=lambda v: v, higher_is_better: bool = True, fmt: str = "{:.0f}") -> None:
        peer = [get(v) for v in samples["llama.cpp"][key]]
        cells = [name, fmt.format(median(peer))]
        results["llama.cpp"][name.strip()] = median(peer)
        for label in columns:
            ours = [get(v) for v in samples[label][key]]
            ratios = [o / p if higher_is_better else p / o for o, p in zip(ours, peer, strict=True)]
            cells += [fmt.format(median(ours)), f"{median(ratios):.2f}x"]
            results[label][name.strip()] = {"median": median(ours), "ratio": median(ratios)}
        rows.append(cells)

    for n in PREFILL_LENGTHS:
        row(f"prefill {n} tok (tok/s)", f"prefill {n}")
    row(f"decode {DECODE_TOKENS} after {DECODE_PROMPT} (tok/s)", "decode")
    row("  the same through the generation API", "generate", lambda v: v[0])
    row("cold 512-tok prompt (ms)", "reprompt", lambda v: v[0] * 1e3, higher_is_better=False)
    row("re-prompt after 1 char (ms)", "reprompt", lambda v: v[1] * 1e3, higher_is_better=False)
    row("peak RSS (MB)", "final", lambda v: v["peak_rss_mb"], higher_is_better=False)
    fractions = {label: median([edit / cold for cold, edit in s["reprompt"]]) for label, s in samples.items()}
    print(f"machine: {platform.processor() or platform.machine()}, {args.threads} threads, {args.repeats} rounds, "
          "every engine once a round in turn; figures are medians, ratios the median of the rounds' ratios")
    print("ratio > 1 means Ghostwright is better (faster, or less memory)")
    print(table(rows))
    print("re-prompt / cold: " + ", ".join(f"{k} {v:.3f}" for k, v in fractions.items()))
    save("decode", {"threads": args.threads, "rounds": args.repeats, "results": results})


if __name__ == "__main__":
    main()
