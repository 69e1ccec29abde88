"""Choose the tier for a request: "full" by default, "mini" when full would be too slow
or its token budget is nearly spent (the Codex-Mini rule).

The router learns each tier's speed from the requests it serves (moving averages of
prefill and decode seconds per token) and its queue, so the decision follows the machine
it runs on rather than constants.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from ghostwright.inference.api import GenerationRequest, GenerationStats, Priority

BUDGET_SWITCH_FRACTION = 0.9  # past this share of the full tier's token budget, use mini
# A prefill this long says what a prompt token costs; a shorter one mostly measures the fixed cost
# of one forward step (with KV reuse most calls prefill one or two tokens: ~25 ms "per token").
MIN_PREFILL_SAMPLE = 32


@dataclass
class TierSpeed:
    """What a tier's calls cost, learned from the calls it served. A prefill of n tokens costs
    one forward step (about a decode step) plus n times the per-token rate; a call decodes
    about as many tokens as its recent calls did, not its max_tokens (an inline completion
    usually stops at the end of a line)."""

    prefill_s_per_token: float = 0.002
    decode_s_per_token: float = 0.02
    generated_tokens: float | None = None  # moving average; None until an inline call has finished
    samples: int = 0
    decode_samples: int = 0
    prefill_samples: int = 0

    def update(self, stats: GenerationStats, alpha: float = 0.3, inline_answer: bool = True,
               decode_speed: bool = True) -> None:
        """``inline_answer``: an inline call that ended on its own (stop, end of text, max_tokens):
        a cancelled one's few tokens, or a chat answer's hundreds, say nothing of how long an
        inline answer runs. ``decode_speed`` False: its decode time is not one request's (a row of
        a batch shared each step with the others), so it says nothing of how fast a request decodes."""
        # The first measurement replaces the guess outright: the guess is not a measurement.
        if decode_speed and stats.generated_tokens > 1:
            weight = 1.0 if self.decode_samples == 0 else alpha
            rate = stats.decode_s / stats.generated_tokens
            self.decode_s_per_token += weight * (rate - self.decode_s_per_token)
            self.decode_samples += 1
        if stats.prefilled_tokens >= MIN_PREFILL_SAMPLE and stats.prefill_s > 0:
            rate = max(stats.prefill_s - self.decode_s_per_token, 0.0) / stats.prefilled_tokens
            weight = 1.0 if self.prefill_samples == 0 else alpha
            self.prefill_s_per_token += weight * (rate - self.prefill_s_per_token)
            self.prefill_samples += 1
        if inline_answer:
            last = float(stats.generated_tokens)
            self.generated_tokens = last if self.generated_tokens is None \
                else self.generated_tokens + alpha * (last - self.generated_tokens)
        self.samples += 1

    def estimate_s(self, new_prompt_tokens: int, max_tokens: int, answer_tokens: float | None = None) -> float:
        """Seconds a call would take: prefilling ``new_prompt_tokens`` and decoding about
        ``answer_tokens`` (by default as many as this tier's answers ran; max_tokens if unknown)."""
        prefill = self.decode_s_per_token + new_prompt_tokens * self.prefill_s_per_token if new_prompt_tokens else 0.0
        answer_tokens = self.generated_tokens if answer_tokens is None else answer_tokens
        tokens = max_tokens if answer_tokens is None else min(max_tokens, max(answer_tokens, 1.0))
        return prefill + tokens * self.decode_s_per_token


@dataclass
class Router:
    tiers: tuple[str, ...]  # available, e.g. ("full", "mini") or ("full",)
    full_token_budget: int | None = None  # tokens (prompt + output) the full tier may process
    spent_full_tokens: int = 0
    speeds: dict[str, TierSpeed] = field(default_factory=dict)
    decisions: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        for tier in self.tiers:
            self.speeds.setdefault(tier, TierSpeed())

    def choose(self, request: GenerationRequest, new_prompt_tokens: int, now: float) -> tuple[str, str]:
        """(tier, reason). The deadline is a point in time: what the request already waited in
        the queue is in ``now`` (adding it to the estimate as well counted it twice)."""
        with self._lock:
            tier, reason = self._choose(request, new_prompt_tokens, now)
            key = f"{tier}:{reason.split(' (')[0]}"  # counted by kind; the estimate stays in the request's stats
            self.decisions[key] = self.decisions.get(key, 0) + 1
            return tier, reason

    def _choose(self, request: GenerationRequest, new_tokens: int, now: float) -> tuple[str, str]:
        if request.tier in self.tiers:
            return request.tier, "requested"
        if "mini" not in self.tiers:
            return self.tiers[0], "only tier"
        if self.full_token_budget and self.spent_full_tokens >= BUDGET_SWITCH_FRACTION * self.full_token_budget:
            return "mini", "full budget 90% spent"
        if request.priority == Priority.INLINE and request.deadline is not None:
            estimate = self.speeds["full"].estimate_s(new_tokens, request.max_tokens, self._answer_tokens())
            if now + estimate > request.deadline:
                return "mini", f"deadline (full would take ~{estimate * 1000:.0f} ms)"
        return "full", "default"

    def _answer_tokens(self) -> float | None:
        """How long inline answers run, from whichever tier answered them: how long a line of code
        is does not depend on which model writes it, and a full tier that has answered nothing yet
        (every request went to mini) would otherwise be assumed to run to max_tokens forever."""
        full = self.speeds["full"].generated_tokens
        if full is not None:
            return full
        return next((s.generated_tokens for s in self.speeds.values() if s.generated_tokens is not None), None)

    def record(self, tier: str, stats: GenerationStats, count_budget: bool = True,
               inline_answer: bool = True, decode_speed: bool = True) -> None:
        with self._lock:
            self.speeds[tier].update(stats, inline_answer=inline_answer, decode_speed=decode_speed)
            if tier == "full" and count_budget:
                self.spent_full_tokens += stats.prefilled_tokens + stats.generated_tokens

    def snapshot(self) -> dict[str, object]:
        with self._lock:
            return {
                "tiers": list(self.tiers),
                "full_token_budget": self.full_token_budget,
                "spent_full_tokens": self.spent_full_tokens,
                "decisions": dict(self.decisions),
                "speeds": {t: {"prefill_ms_per_token": round(s.prefill_s_per_token * 1e3, 3),
                               "decode_ms_per_token": round(s.decode_s_per_token * 1e3, 3),
                               "generated_tokens": None if s.generated_tokens is None
                               else round(s.generated_tokens, 1)}
                           for t, s in self.speeds.items()},
            }
