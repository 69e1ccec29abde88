"""``ghostwright tune``: the repository in, a tuned model in the store out, with its uplift measured.

Steps, each said on stderr: read and split the repository; render the examples; train LoRA
(progress line with tokens/s and held-out loss; Ctrl-C keeps the best adapter and a rerun
resumes); save the tuned source (base + adapter); check the merge (peft's merged weights equal
the source's ``W + scale * B @ A``, and the merged float model's logits equal the numpy
reference's); export the variants through the ordinary exporter and verify each against the
reference; score base and tuned bundles on the same held-out holes.
"""

from __future__ import annotations

import contextlib
import gc
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ghostwright.errors import GhostwrightError
from ghostwright.export import contract
from ghostwright.home import models_dir

if TYPE_CHECKING:
    from ghostwright.export.source import ModelSource
    from ghostwright.server.context.workspace_index import WorkspaceIndex
    from ghostwright.tune.train import Progress, TrainSettings

TUNED_SOURCE = "source"  # models_dir()/NAME/source: the tuned model's weight source (base + adapter)
CHECKPOINTS = "tune"  # models_dir()/NAME/tune: checkpoints, the resume state
PARITY_TEXT = "def mean(values):\n    return sum(values) / len(values)\n"
# Held-out one-line holes the loss is measured on at each evaluation (none of the scored holes:
# the adapter kept is not chosen on the cursors it is scored on). Holes alone, because exact match
# on holes is what the uplift measures; 32 of them cost the 0.5B ~50 s on 2 cores.
EVAL_EXAMPLES = 32


def base_bundle(base: str) -> Path:
    """The store's bundle of ``base`` (its int8 when there is one): the tokenizer, format and source."""
    folder = models_dir() / base
    found = sorted(folder.glob(f"*/{contract.MANIFEST_FILE}"), key=lambda m: (m.parent.name != "int8", m.parent.name))
    if not found:
        raise GhostwrightError(f"no exported model {base!r} under {models_dir()}: `ghostwright model pull` the "
                               "default profile, or `ghostwright model export PATH --name NAME` your own first")
    return found[0].parent


def tune_repository(root: Path, base: str, name: str, settings: TrainSettings, *, holdout: float = 0.1,
                    variants: tuple[str, ...] = ("int8",), holes: int = 60,
                    say: Callable[[str], None] | None = None) -> dict[str, object]:
    from ghostwright.export.bundle import read_source
    from ghostwright.export.models import export_model
    from ghostwright.export.tuned_source import read_tuned_source, write_tuned_source
    from ghostwright.export.verify import verify_bundle
    from ghostwright.inference.manifest import read_manifest
    from ghostwright.inference.prompt_format import format_for
    from ghostwright.inference.tokenization import TextTokenizer
    from ghostwright.tune.corpus import read_corpus
    from ghostwright.tune.examples import ExampleBuilder
    from ghostwright.tune.torch_decoder import TorchDecoder
    from ghostwright.tune.train import adapter_factors, train
    from ghostwright.tune.uplift import answers, compare, evaluation_holes, held_out_holes, score_model

    say = say or (lambda text: print(f"ghostwright: {text}", file=sys.stderr, flush=True))
    if name == base:
        raise GhostwrightError("--name must differ from --base: the tuned model is a new model beside its base")
    started = time.monotonic()
    bundle = base_bundle(base)
    manifest = read_manifest(bundle)
    source_path = Path((manifest.raw.get("source") or {}).get("path", ""))
    if not source_path.exists():
        raise GhostwrightError(f"{bundle}: its source weights ({source_path}) are not on this machine")
    corpus = read_corpus(root, holdout)
    say(f"{len(corpus.train)} files to train on, {len(corpus.held_out)} held out ({corpus.skipped or 'none'} skipped)")
    tokenizer = TextTokenizer(manifest.tokenizer_path, manifest.config.vocab_size,
                              manifest.special_tokens.get("bos"), manifest.add_bos)
    eos = manifest.eos_ids
    builder = ExampleBuilder(corpus.root, format_for(manifest), tokenizer, eos[0] if eos else None, settings.context,
                             index=files_index(corpus.root, [f.relative for f in corpus.train]))
    train_set = builder.training_set(corpus.train, settings.seed)
    chosen = held_out_holes(corpus.held_out, holes)
    held_set = builder.hole_set(evaluation_holes(corpus.held_out, chosen, EVAL_EXAMPLES))
    say(f"{len(train_set)} training examples ({sum(e.trained_tokens for e in train_set):,} tokens with a loss), "
        f"{len(held_set)} held-out examples")

    peaks: dict[str, float | None] = {}
    _phase_peak(peaks, "examples")
    source = read_source(source_path)
    model = TorchDecoder(source.config, source.load_tensor)
    folder = models_dir() / name
    peft_model, progress = train(model, train_set, held_set, settings, folder / CHECKPOINTS,
                                 source.provenance["sha256"], _progress_line(settings))
    if progress.stopped == "interrupted":
        say(f"stopped at step {progress.step}; the best adapter (step {progress.best_step}) is kept: run the same "
            "command again to resume")
        return {"interrupted": True, "training": asdict(progress)}
    _phase_peak(peaks, "training")
    factors = adapter_factors(peft_model)
    tuned_path = write_tuned_source(folder / TUNED_SOURCE, source_path, source.provenance["sha256"], factors,
                                    settings.scale, {"name": name, "base_model": base})
    tuned = read_tuned_source(tuned_path)
    parity = merge_parity(peft_model, tuned, tokenizer.encode_text(PARITY_TEXT))
    say(f"merged: largest weight difference {parity['weights_max_abs']:.2e}, logits vs the numpy reference "
        f"{parity['logits_max_abs']:.2e}")
    del model, peft_model, source
    gc.collect()
    _phase_peak(peaks, "merge check")
    bundles = export_model(tuned_path, name, variants, source=tuned)
    verified = {}
    for out in bundles:
        report = verify_bundle(out)
        verified[out.name] = {"max_abs_diff": report.max_abs_diff, "top1_agree": report.top1_agree}
    _phase_peak(peaks, "export")
    index = files_index(corpus.root, None)  # as the server indexes a workspace: every file
    by_variant: dict[str, dict[str, object]] = {}
    for variant in variants:  # each quantization re-measured: a 4-bit re-rounding can erase a small adapter
        base_variant = base_bundle_for(base, variant, bundle)
        say(f"scoring base ({base_variant.name}) and tuned ({variant}) on {len(chosen)} held-out holes")
        base_scores = score_model(base_variant, corpus.root, chosen, index)
        tuned_scores = score_model(folder / variant, corpus.root, chosen, index)
        by_variant[variant] = {"base_variant": base_variant.name, **compare(base_scores, tuned_scores),
                               "answers": answers(chosen, base_scores, tuned_scores)}
    _phase_peak(peaks, "scoring")
    variant = variants[0]
    uplift = {k: v for k, v in by_variant[variant].items() if k != "answers"}  # the answers are in uplift_by_variant
    for other, measured in by_variant.items():
        if erased(uplift, measured):
            say(f"the {other} re-rounding erased the adapter's gain on the held-out holes: serve the {variant} "
                f"(`ghostwright serve --model full={name}/{variant}`)")
    return {"name": name, "base": base, "variant": variant, "uplift_by_variant": by_variant,
            "corpus": corpus.summary(),
            "examples": {"train": len(train_set), "held_out": len(held_set)},
            "training": {**asdict(progress), "tokens_per_s": progress.trained_tokens / max(progress.seconds, 1e-9),
                         "processed_per_s": progress.processed_tokens / max(progress.seconds, 1e-9)},
            "settings": asdict(settings), "parity": parity, "verified": verified, "uplift": uplift,
            "wall_s": time.monotonic() - started, "peak_rss_by_phase_mb": peaks,
            "peak_rss_mb": max((p for p in peaks.values() if p is not None), default=None)}


def erased(first: dict[str, Any], other: dict[str, Any]) -> bool:
    """Whether a variant lost what the first variant gained: the first's tuned model beat its base
    (exact or edit similarity, interval above zero) and this one's did not."""
    def gained(uplift: dict[str, Any]) -> bool:
        return uplift["exact_difference"]["ci95"][0] > 0 or uplift["edit_similarity_difference"]["ci95"][0] > 0

    return gained(first) and not gained(other)


def _peak_rss_mb() -> float | None:
    """This process's peak resident set (VmHWM) since it started or since the last ``_phase_peak``."""
    try:
        with open("/proc/self/status", encoding="utf-8") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _phase_peak(peaks: dict[str, float | None], phase: str) -> None:
    """Record the peak resident set of the phase that just ended, then restart the count (Linux
    resets VmHWM to the current RSS on ``5`` written to clear_refs), so each phase has its own."""
    peaks[phase] = _peak_rss_mb()
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def files_index(root: Path, relatives: list[str] | None) -> WorkspaceIndex:
    """The server's workspace index over ``relatives`` (None: the whole workspace, as it scans one)."""
    from ghostwright.server.context.workspace_index import WorkspaceIndex

    index = WorkspaceIndex(root)
    if relatives is None:
        index.scan()
    for relative in relatives or ():
        index.update_file(root / relative)
    return index


def base_bundle_for(base: str, variant: str, fallback: Path) -> Path:
    """The base's bundle in the variant the tuned model is scored in (the same quantization)."""
    wanted = models_dir() / base / variant
    return wanted if (wanted / contract.MANIFEST_FILE).is_file() else fallback


def merge_parity(peft_model: Any, tuned: ModelSource, ids: list[int]) -> dict[str, float]:
    """peft's own merge against the tuned source's, and the merged model against the numpy reference."""
    import torch

    from ghostwright.export import reference
    from ghostwright.tune.torch_decoder import LINEAR_NAMES

    merged = peft_model.merge_and_unload()
    worst = 0.0
    for i, block in enumerate(merged.layers):
        for linear in LINEAR_NAMES:
            ours = tuned.load_tensor(f"layers.{i}.{linear}")
            worst = max(worst, float(np.abs(getattr(block, linear).weight.detach().numpy() - ours).max()))
    with torch.no_grad():
        logits = merged(torch.tensor([ids])).numpy()[0]
    weights = {n: tuned.load_tensor(n) for n in tuned.required_tensors()}
    expected = reference.forward(tuned.config, weights, ids)
    return {"weights_max_abs": worst, "logits_max_abs": float(np.abs(logits - expected).max()),
            "top1_agree": bool((logits.argmax(-1) == expected.argmax(-1)).all())}


def _progress_line(settings: TrainSettings) -> Callable[[Progress, float], None]:
    tty = sys.stderr.isatty()
    last = [0.0]

    def report(progress: Progress, loss: float) -> None:
        now = time.monotonic()
        if not tty and now - last[0] < 30:
            return
        last[0] = now
        rate = progress.trained_tokens / max(progress.seconds, 1e-9)
        best = f"{progress.best_loss:.3f}" if progress.best_loss is not None else "-"
        line = (f"ghostwright: tuning step {progress.step}, {progress.trained_tokens:,} tokens, {rate:.0f} tok/s, "
                f"loss {loss:.3f}, best held-out {best}, {progress.seconds / 60:.1f}/{settings.minutes:g} min")
        print(("\r" + line) if tty else line, end="" if tty else "\n", file=sys.stderr, flush=True)

    return report
