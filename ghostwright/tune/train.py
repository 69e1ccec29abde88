"""LoRA on every linear layer of the base model, trained on the repository's examples.

The loop packs examples into rows of the context width, steps AdamW on the adapter only, and
every ``eval_every`` steps measures the loss on held-out files' examples; the best adapter so far
is what is kept (on disk, so Ctrl-C keeps it) and training stops early once held-out loss has
not improved for ``patience`` evaluations. A second run with the same base, corpus and settings
resumes from the last step: same example order, same optimizer state.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from ghostwright.tune.examples import Example, pack
from ghostwright.tune.torch_decoder import LINEAR_NAMES, TorchDecoder, masked_loss

BEST_FILE, LAST_FILE, STATE_FILE = "best.pt", "last.pt", "state.json"


@dataclass(frozen=True)
class TrainSettings:
    minutes: float = 30.0
    max_tokens_trained: int | None = None  # answer/code tokens the loss was taken on
    context: int = 512  # tokens per packed row
    rank: int = 8
    alpha: float = 16.0
    dropout: float = 0.0  # LoRA's input dropout: a run of minutes does not overfit, and its masks cost 12% of a step
    learning_rate: float = 2e-4
    warmup_steps: int = 10
    eval_every: int = 50  # steps (for the 0.5B on 2 cores: a hole step ~5 s, an evaluation ~2 min)
    patience: int = 4  # evaluations without a better held-out loss before stopping
    epochs: int = 3  # passes over the repository at most (a small one is read more than once)
    seed: int = 0
    # Matmuls in bfloat16 (autocast; the adapter, its optimizer and the loss stay float32) where the
    # CPU computes bfloat16 natively: on 2 cores with AVX-512 BF16 and AMX, a Qwen2.5-Coder-0.5B step
    # over a 512-token row took 4.2 s instead of 7.6 s (medians of six). "auto" leaves it off on
    # CPUs without those instructions, where PyTorch would emulate bfloat16 (not measured here).
    precision: str = "auto"  # auto | bf16 | fp32

    @property
    def scale(self) -> float:
        return self.alpha / self.rank

    @property
    def bf16(self) -> bool:
        if self.precision not in ("auto", "bf16", "fp32"):
            raise ValueError(f"precision {self.precision!r}: auto, bf16 or fp32")
        return self.precision == "bf16" or (self.precision == "auto" and native_bf16())


def native_bf16() -> bool:
    """Whether this CPU multiplies bfloat16 in hardware (AVX-512 BF16 or AMX)."""
    cpu = getattr(torch, "cpu", None)
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(cpu, name, lambda: False)()) for name in checks)


def matmul_precision(bf16: bool) -> AbstractContextManager[object]:
    return torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16)


@dataclass
class Progress:
    step: int = 0
    rows_done: int = 0  # position in the (seeded) row order: where a resumed run goes on
    trained_tokens: int = 0  # tokens the loss was taken on
    processed_tokens: int = 0  # every token of the rows stepped on (prompts included)
    seconds: float = 0.0
    best_loss: float | None = None
    best_step: int = 0
    evals_without_gain: int = 0
    history: list[dict[str, float]] = field(default_factory=list)  # step, tokens, train and held-out loss
    stopped: str = ""  # why training ended: time, tokens, early stop, data, interrupted


def adapt(model: TorchDecoder, settings: TrainSettings) -> torch.nn.Module:
    """The model wrapped by peft with LoRA on every linear layer (q, k, v, o, gate, up, down)."""
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(r=settings.rank, lora_alpha=settings.alpha, lora_dropout=settings.dropout,
                        target_modules=list(LINEAR_NAMES), bias="none")
    return get_peft_model(model, config)


def adapter_factors(peft_model: torch.nn.Module) -> dict[str, tuple]:
    """Canonical tensor name -> (A, B) numpy factors of each adapted linear layer."""
    found: dict[str, dict[str, object]] = {}
    for key, value in peft_model.state_dict().items():
        if ".lora_A." in key or ".lora_B." in key:
            which = "A" if ".lora_A." in key else "B"
            module = key.split(".lora_")[0].removeprefix("base_model.model.")
            found.setdefault(module, {})[which] = value.detach().float().numpy().copy()
    return {name: (f["A"], f["B"]) for name, f in found.items()}


def lora_state(peft_model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in peft_model.state_dict().items() if "lora_" in k}


def held_out_loss(model: torch.nn.Module, rows: list[tuple[list[int], list[int], list[int]]],
                  bf16: bool = False) -> float:
    """Mean loss per trained token over the held-out rows (dropout off)."""
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad(), matmul_precision(bf16):
        for ids, targets, segments in rows:
            loss, n = masked_loss(model, *_tensors(ids, targets, segments))
            total, count = total + float(loss), count + n
    model.train()
    return total / max(count, 1)


def fingerprint(base_sha: str, train: list[Example], settings: TrainSettings) -> str:
    """What a checkpoint was trained on: resume only onto the very same run."""
    digest = hashlib.sha256(base_sha.encode())
    for example in train:
        digest.update(repr((len(example.ids), example.ids[-8:], example.trained_tokens)).encode())
    fixed = {k: v for k, v in asdict(settings).items() if k not in ("minutes", "max_tokens_trained", "patience")}
    digest.update(json.dumps(fixed, sort_keys=True).encode())
    return digest.hexdigest()


def train(model: TorchDecoder, train_set: list[Example], held_out: list[Example], settings: TrainSettings,
          folder: Path, base_sha: str, report: Callable[[Progress, float], None] | None = None
          ) -> tuple[torch.nn.Module, Progress]:
    """Train (or resume) into ``folder``; returns the peft model holding the best adapter."""
    torch.manual_seed(settings.seed)
    bf16 = settings.bf16  # asked of the CPU once, not every step
    peft_model = adapt(model, settings)
    params = [p for p in peft_model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=settings.learning_rate, weight_decay=0.0)
    rows = list(pack(train_set, settings.context))
    eval_rows = list(pack(held_out, settings.context))
    folder.mkdir(parents=True, exist_ok=True)
    mark = fingerprint(base_sha, train_set, settings)
    progress = _resume(folder, mark, peft_model, optimizer) or Progress()
    total_steps = len(rows) * settings.epochs
    budget_s = settings.minutes * 60
    order: list[int] = []

    def schedule(progress: Progress) -> float:
        """Warm-up, then a cosine that reaches zero at whichever cap ends the run first (data,
        time or tokens): a run cut by its time budget still ends on a decayed rate."""
        warm = min(1.0, (progress.step + 1) / max(settings.warmup_steps, 1))
        done = max(progress.step / max(total_steps, 1), progress.seconds / max(budget_s, 1e-9),
                   progress.trained_tokens / settings.max_tokens_trained if settings.max_tokens_trained else 0.0)
        return warm * 0.5 * (1 + math.cos(math.pi * min(done, 1.0)))

    if progress.best_loss is None:
        progress.best_loss = held_out_loss(peft_model, eval_rows, bf16)
        progress.history.append({"step": 0, "tokens": 0, "held_out_loss": progress.best_loss})
        torch.save(lora_state(peft_model), folder / BEST_FILE)
    started = time.monotonic() - progress.seconds
    peft_model.train()
    try:
        while True:
            progress.seconds = time.monotonic() - started
            if progress.rows_done >= total_steps:
                progress.stopped = "data"  # every pass over the repository done
                break
            if progress.seconds >= budget_s:
                progress.stopped = "time"
                break
            if settings.max_tokens_trained and progress.trained_tokens >= settings.max_tokens_trained:
                progress.stopped = "tokens"
                break
            for group in optimizer.param_groups:
                group["lr"] = settings.learning_rate * schedule(progress)
            epoch, within = divmod(progress.rows_done, len(rows))
            if within == 0 or not order:  # each pass in its own seeded order: a resumed run sees the same
                order = list(range(len(rows)))
                random.Random(settings.seed * 1000 + epoch).shuffle(order)
            ids, targets, segments = rows[order[within]]
            with matmul_precision(bf16):
                loss_sum, count = masked_loss(peft_model, *_tensors(ids, targets, segments))
            loss = loss_sum / max(count, 1)  # masked_loss sums in float32 under autocast too
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            progress.step += 1
            progress.rows_done += 1
            progress.trained_tokens += count
            progress.processed_tokens += len(ids)
            held = None
            if progress.step % settings.eval_every == 0:
                held = held_out_loss(peft_model, eval_rows, bf16)
                progress.history.append({"step": progress.step, "tokens": progress.trained_tokens,
                                         "train_loss": float(loss.detach()), "held_out_loss": held})
                if _keep_if_best(peft_model, progress, held, folder):
                    progress.evals_without_gain = 0
                else:
                    progress.evals_without_gain += 1
                _save(folder, mark, peft_model, optimizer, progress, time.monotonic() - started)
                if progress.evals_without_gain >= settings.patience:
                    progress.stopped = "early stop"
                    break
            if report:
                report(progress, float(loss.detach()))
    except KeyboardInterrupt:
        progress.stopped = "interrupted"
    progress.seconds = time.monotonic() - started
    if progress.stopped != "interrupted" and progress.step % settings.eval_every:
        held = held_out_loss(peft_model, eval_rows, bf16)  # the steps since the last evaluation count too
        progress.history.append({"step": progress.step, "tokens": progress.trained_tokens, "held_out_loss": held})
        _keep_if_best(peft_model, progress, held, folder)
    _save(folder, mark, peft_model, optimizer, progress, progress.seconds)
    peft_model.load_state_dict(torch.load(folder / BEST_FILE), strict=False)
    return peft_model, progress


def _keep_if_best(model: torch.nn.Module, progress: Progress, held: float, folder: Path) -> bool:
    """Save the adapter as the best so far when ``held`` beats the best held-out loss."""
    if progress.best_loss is not None and held >= progress.best_loss:
        return False
    progress.best_loss, progress.best_step = held, progress.step
    torch.save(lora_state(model), folder / BEST_FILE)
    return True


def _tensors(ids: list[int], targets: list[int], segments: list[int]) -> tuple[torch.Tensor, ...]:
    return torch.tensor([ids]), torch.tensor([targets]), torch.tensor([segments])


def _save(folder: Path, mark: str, model: torch.nn.Module, optimizer: torch.optim.Optimizer, progress: Progress,
          seconds: float) -> None:
    progress.seconds = seconds
    partial = folder / (LAST_FILE + ".partial")
    torch.save({"lora": lora_state(model), "optimizer": optimizer.state_dict()}, partial)
    partial.replace(folder / LAST_FILE)
    (folder / STATE_FILE).write_text(json.dumps({"fingerprint": mark, "progress": asdict(progress)}, indent=2),
                                     encoding="utf-8")


def _resume(folder: Path, mark: str, model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> Progress | None:
    try:
        state = json.loads((folder / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if state.get("fingerprint") != mark or not (folder / LAST_FILE).is_file():
        print("ghostwright: an earlier tuning run here used other data or settings: starting over", file=sys.stderr)
        return None
    saved = torch.load(folder / LAST_FILE)
    model.load_state_dict(saved["lora"], strict=False)
    optimizer.load_state_dict(saved["optimizer"])
    progress = Progress(**state["progress"])
    print(f"ghostwright: resuming at step {progress.step} ({progress.trained_tokens:,} tokens trained, best held-out "
          f"loss {progress.best_loss:.3f})", file=sys.stderr)
    progress.stopped = ""
    return progress
