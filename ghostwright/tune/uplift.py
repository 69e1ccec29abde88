"""Did tuning help? Base and tuned model on the same held-out cursors, through inline completion's path.

Each hole is a line of a held-out file blanked to its indentation; the prompt is the one the
server would send there (the same builder and the model's own rendering, at the server's prompt
budget), the answer is cleaned by the server's post-processor, and its first line is compared
with the original: exact match and difflib's similarity. Decoding is greedy, one answer per hole
(pass@1). The difference is given with a paired bootstrap interval over the holes: both models
answer the very same cursors, so the pairing removes the holes' own difficulty from the noise.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ghostwright.inference.api import GenerationRequest
from ghostwright.server.completion.postprocess import clean_completion
from ghostwright.server.completion.render import SymbolIndex
from ghostwright.tune.corpus import SourceFile
from ghostwright.tune.examples import ExampleBuilder, Hole, holes_in, spread

SINGLE_LINE_MAX_TOKENS = 48  # what the server allows a one-line suggestion
PROMPT_TOKENS = 1024  # the server's default prompt budget


@dataclass(frozen=True)
class HoleScore:
    path: str
    line: int
    exact: bool
    similarity: float
    answer: str


def held_out_holes(files: list[SourceFile], count: int) -> list[tuple[SourceFile, Hole]]:
    """``count`` holes spread over the held-out files, each file's share by its size in holes."""
    per_file = [(f, holes_in(f)) for f in files]
    total = sum(len(h) for _, h in per_file) or 1
    chosen = []
    for file, holes in per_file:
        share = max(1, round(count * len(holes) / total)) if holes else 0
        chosen += [(file, h) for h in spread(holes, share)]
    return chosen[:count]


def evaluation_holes(files: list[SourceFile], scored: list[tuple[SourceFile, Hole]], count: int
                     ) -> list[tuple[SourceFile, Hole]]:
    """``count`` held-out holes spread over the files, none of them one that is scored."""
    taken = {(h.path, h.line) for _, h in scored}
    return spread([(f, h) for f in files for h in holes_in(f) if (h.path, h.line) not in taken], count)


def score_model(bundle: Path, root: Path, holes: list[tuple[SourceFile, Hole]],
                index: SymbolIndex | None = None) -> list[HoleScore]:
    from ghostwright.inference import load_engine
    from ghostwright.inference.manifest import read_manifest
    from ghostwright.inference.prompt_format import format_for
    from ghostwright.inference.tokenization import TextTokenizer

    manifest = read_manifest(bundle)
    tokenizer = TextTokenizer(manifest.tokenizer_path, manifest.config.vocab_size,
                              manifest.special_tokens.get("bos"), manifest.add_bos)
    builder = ExampleBuilder(root, format_for(manifest), tokenizer, None, PROMPT_TOKENS, index=index)
    engine = load_engine({"full": bundle}, device="cpu", warm_up=False)
    scores = []
    try:
        for file, hole in holes:
            prompt, _, built = builder.hole_prompt(file, hole)
            request = GenerationRequest(prompt=prompt, max_tokens=SINGLE_LINE_MAX_TOKENS, stop=built.stop, tier="full")
            raw = "".join(chunk.text for chunk in engine.generate(request))
            text = clean_completion(raw, prefix=built.prefix, suffix=built.suffix, mode=built.mode,
                                    language=built.prompt.language) or ""  # None: nothing worth showing
            first = text.strip().split("\n")[0].strip() if text.strip() else ""
            scores.append(HoleScore(hole.path, hole.line, first == hole.target,
                                    difflib.SequenceMatcher(None, first, hole.target).ratio(), first))
    finally:
        engine.close()
    return scores


def paired_bootstrap(base: list[float], tuned: list[float], samples: int = 2000, seed: int = 0
                     ) -> tuple[float, float, float]:
    """Mean of tuned - base, and its 95% interval by resampling the holes."""
    diff = np.asarray(tuned, np.float64) - np.asarray(base, np.float64)
    if diff.size == 0:
        return 0.0, 0.0, 0.0
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, diff.size, size=(samples, diff.size))].mean(axis=1)
    return float(diff.mean()), float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def answers(holes: list[tuple[SourceFile, Hole]], base: list[HoleScore], tuned: list[HoleScore]
            ) -> list[dict[str, object]]:
    """Each hole's line and both models' answers: what an aggregate hides (which holes moved, and how)."""
    return [{"path": hole.path, "line": hole.line, "target": hole.target, "base": b.answer, "tuned": t.answer}
            for (_, hole), b, t in zip(holes, base, tuned, strict=True)]


def compare(base: list[HoleScore], tuned: list[HoleScore]) -> dict[str, object]:
    exact_b, exact_t = [float(s.exact) for s in base], [float(s.exact) for s in tuned]
    sim_b, sim_t = [s.similarity for s in base], [s.similarity for s in tuned]
    d_exact, lo_exact, hi_exact = paired_bootstrap(exact_b, exact_t)
    d_sim, lo_sim, hi_sim = paired_bootstrap(sim_b, sim_t)
    n = len(base)
    return {
        "holes": n,
        "base": {"exact": int(sum(exact_b)), "edit_similarity": float(np.mean(sim_b)) if n else 0.0},
        "tuned": {"exact": int(sum(exact_t)), "edit_similarity": float(np.mean(sim_t)) if n else 0.0},
        "exact_ratio": (sum(exact_t) / sum(exact_b)) if sum(exact_b) else None,
        "exact_difference": {"mean": d_exact, "ci95": [lo_exact, hi_exact]},
        "edit_similarity_difference": {"mean": d_sim, "ci95": [lo_sim, hi_sim]},
    }
