"""The tier router as a pure function of measured speeds, deadlines and the budget."""

from __future__ import annotations

from ghostwright.inference.api import GenerationRequest, GenerationStats, Priority, Prompt
from ghostwright.inference.router import Router, TierSpeed


def inline(deadline_s: float, max_tokens: int = 48) -> GenerationRequest:
    return GenerationRequest(prompt=Prompt.text("x"), max_tokens=max_tokens, priority=Priority.INLINE,
                             deadline=100.0 + deadline_s)


def measured(prefill_ms: float, decode_ms: float) -> GenerationStats:
    return GenerationStats(prefilled_tokens=100, prefill_s=prefill_ms / 10, generated_tokens=20,
                           decode_s=decode_ms * 20 / 1000)


def test_the_first_measurement_replaces_the_guess() -> None:
    speed = TierSpeed()
    speed.update(measured(prefill_ms=1.0, decode_ms=10.0))
    assert (round(speed.prefill_s_per_token, 6), round(speed.decode_s_per_token, 6)) == (0.001, 0.01)
    speed.update(measured(prefill_ms=2.0, decode_ms=20.0))  # later ones are averaged in
    assert 0.01 < speed.decode_s_per_token < 0.02


def test_a_deadline_full_would_miss_goes_to_mini_and_one_it_meets_stays() -> None:
    router = Router(("full", "mini"))
    router.record("full", measured(prefill_ms=1.0, decode_ms=10.0))
    # 48 tokens at 10 ms = 0.48 s of decode, plus the uncached part of the prompt at 1 ms a token
    assert router.choose(inline(1.0), 100, 0.0, 100.0)[0] == "full"
    assert router.choose(inline(1.0), 900, 0.0, 100.0)[0] == "mini"
    assert router.choose(inline(0.3), 0, 0.0, 100.0)[0] == "mini"


def test_requested_tier_and_spent_budget() -> None:
    router = Router(("full", "mini"), full_token_budget=100)
    request = inline(10.0)
    request.tier = "full"
    assert router.choose(request, 10, 0.0, 100.0) == ("full", "requested")
    router.record("full", GenerationStats(prefilled_tokens=95))
    assert router.choose(inline(10.0), 10, 0.0, 100.0) == ("mini", "full budget 90% spent")
