"""Speculative decoding by prompt lookup on real code: acceptance, speed-up, identical output.

Two kinds of request, each decoded greedily with drafting off, then with each draft length:
  fill: holes of 1-6 lines cut from the middle of functions in installed packages' Python
        files (fill-in-the-middle prompt: the file around the hole), up to 96 tokens;
  edit: "add type hints to this function" over a chat prompt, where the answer copies most
        of the function, up to 400 tokens.
Decode tokens/s comes from the engine's own decode timer (prefill excluded), per request;
medians over requests.

    python bench/speculation.py [--threads 2] [--fills 12] [--edits 4] [--drafts 4,8]
"""

from __future__ import annotations

import argparse
import ast
import random
import sys
import sysconfig
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import default_model, median, save, table

PACKAGES = ("pygls", "lsprotocol", "jinja2", "onnx", "numpy", "tokenizers", "packaging", "pytest")


def functions(rng: random.Random, count: int, lines: tuple[int, int]) -> list[tuple[str, ast.FunctionDef]]:
    """``count`` (source, function) pairs, functions of ``lines`` lines, from installed packages."""
    site = Path(sysconfig.get_paths()["purelib"])
    files = sorted(p for pkg in PACKAGES for p in (site / pkg).rglob("*.py") if "test" not in p.name)
    rng.shuffle(files)
    found: list[tuple[str, ast.FunctionDef]] = []
    for path in files:
        try:
            source = path.read_text(encoding="utf-8")
            tree = ast.parse(source)
        except (SyntaxError, UnicodeDecodeError):
            continue
        fits = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)
                and lines[0] <= n.end_lineno - n.lineno + 1 <= lines[1]]  # type: ignore[operator]
        if fits:
            found.append((source, rng.choice(fits)))
        if len(found) == count:
            break
    return found


def fill_prompts(rng: random.Random, count: int) -> list:
    from ghostwright.inference import GenerationRequest
    from ghostwright.inference.api import InfillPrompt

    out = []
    for source, fn in functions(rng, count, (8, 60)):
        lines = source.splitlines(keepends=True)
        start = rng.randrange(fn.body[0].lineno - 1, fn.end_lineno - 1)  # type: ignore[operator]
        end = min(start + rng.randint(1, 6), fn.end_lineno)  # type: ignore[arg-type]
        prefix, suffix = "".join(lines[:start])[-6000:], "".join(lines[end:])[:3000]
        out.append(GenerationRequest(prompt=InfillPrompt(prefix=prefix, suffix=suffix, language="python"),
                                     max_tokens=96, tier="full"))
    return out


def edit_prompts(rng: random.Random, count: int) -> list:
    from ghostwright.inference import GenerationRequest
    from ghostwright.inference.api import ChatPrompt

    out = []
    for source, fn in functions(rng, count, (12, 30)):
        code = "".join(source.splitlines(keepends=True)[fn.lineno - 1 : fn.end_lineno])
        ask = ("Add type hints to this function's parameters and return value. Change nothing else. Reply with "
               f"the whole function in one ```python block.\n\n```python\n{code}```")
        out.append(GenerationRequest(prompt=ChatPrompt.of([{"role": "user", "content": ask}]), max_tokens=400,
                                     tier="full"))
    return out


def run(engine, request, draft_tokens: int) -> dict:
    from dataclasses import replace

    from ghostwright.inference import CancelToken

    engine.draft_tokens = draft_tokens
    before = dict(engine.stats()["speculation"])
    chunks = list(engine.generate(replace(request, cancel=CancelToken())))
    after = engine.stats()["speculation"]
    s = chunks[-1].stats
    return {"text": "".join(c.text for c in chunks), "tokens": s.generated_tokens, "decode_s": s.decode_s,
            "tokens_per_s": s.decode_tokens_per_s,
            **{k: after[k] - before[k] for k in ("steps", "drafted", "accepted")}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--fills", type=int, default=12)
    parser.add_argument("--edits", type=int, default=4)
    parser.add_argument("--drafts", default="4,8", help="draft lengths to compare with drafting off")
    parser.add_argument("--min-ngram", type=int, default=None, help="shortest tail a draft is looked up by")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    drafts = [int(k) for k in args.drafts.split(",")]

    from ghostwright.inference import load_engine

    model_dir, _ = default_model(("int8",))
    engine = load_engine(model_dir / "int8", device="cpu", threads=args.threads, max_slots=1, cache_tokens=4096)
    if args.min_ngram is not None:
        engine.draft_min_ngram = args.min_ngram
    rng = random.Random(args.seed)
    cases = {"fill": fill_prompts(rng, args.fills), "edit": edit_prompts(rng, args.edits)}
    results: dict[str, list[dict]] = {}
    for kind, requests in cases.items():
        results[kind] = []
        for i, request in enumerate(requests):
            runs = {str(k): run(engine, request, k) for k in (0, *drafts)}  # 0 first: it pays the cold prefill
            results[kind].append(runs)
            print(kind, i, " ".join(f"k={k}: {r['tokens']} tok {r['tokens_per_s']:.1f} tok/s "
                                    f"acc {r['accepted']}/{r['drafted']}" for k, r in runs.items()),
                  "same" if all(r["text"] == runs["0"]["text"] for r in runs.values()) else "DIFFERENT",
                  flush=True)
    engine.close()

    rows = [["case", "draft k", "decode tok/s (median)", "speed-up (median)", "accepted / drafted",
             "tokens per model step", "same output"]]
    summary: dict = {}
    for kind, cases_run in results.items():
        for k in (0, *drafts):
            key = str(k)
            rs = [c[key] for c in cases_run]
            speedups = [c[key]["tokens_per_s"] / c["0"]["tokens_per_s"] for c in cases_run if c["0"]["tokens_per_s"]]
            drafted, accepted = sum(r["drafted"] for r in rs), sum(r["accepted"] for r in rs)
            tokens = sum(r["tokens"] for r in rs)
            # Model steps: one per token, less the accepted drafts (their logits came with a verifying step).
            steps = tokens - accepted
            same = sum(c[key]["text"] == c["0"]["text"] for c in cases_run)
            summary[f"{kind}/{k}"] = {"tokens_per_s": median([r["tokens_per_s"] for r in rs]),
                                      "speedup": median(speedups), "drafted": drafted, "accepted": accepted,
                                      "tokens_per_step": tokens / steps if steps else 0.0, "same": same,
                                      "cases": len(rs)}
            m = summary[f"{kind}/{k}"]
            rows.append([kind, key, f"{m['tokens_per_s']:.1f}", f"{m['speedup']:.2f}x",
                         f"{accepted}/{drafted} ({accepted / drafted:.0%})" if drafted else "-",
                         f"{m['tokens_per_step']:.2f}", f"{same}/{len(rs)}"])
    print(f"{args.threads} threads; fill: {args.fills} holes, edit: {args.edits} functions")
    print(table(rows))
    save("speculation", {"threads": args.threads, "summary": summary, "results": results})


if __name__ == "__main__":
    main()
