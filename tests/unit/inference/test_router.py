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
    # 100 tokens in 0.1 s: one forward step (a decode step, 10 ms) plus 0.9 ms a token
    assert (round(speed.prefill_s_per_token, 6), round(speed.decode_s_per_token, 6)) == (0.0009, 0.01)
    speed.update(measured(prefill_ms=2.0, decode_ms=20.0))  # later ones are averaged in
    assert 0.01 < speed.decode_s_per_token < 0.02


def test_a_prefill_of_a_few_tokens_does_not_teach_the_per_token_rate() -> None:
    """With KV reuse most calls prefill one token in about one forward step (~25 ms): taken as a
    per-token rate, a 280-token prompt looked like 7 s and every call after a context change went
    to mini, whose calls never refreshed full's cache (measured in the typing replay inside a package)."""
    speed = TierSpeed()
    speed.update(measured(prefill_ms=2.0, decode_ms=20.0))
    for _ in range(20):
        speed.update(GenerationStats(prefilled_tokens=1, prefill_s=0.025, generated_tokens=8, decode_s=0.16))
    assert round(speed.prefill_s_per_token, 6) == 0.0018  # (0.2 s - one 20 ms step) / 100
    assert speed.estimate_s(280, 48) < 1.0


def test_the_estimate_decodes_as_many_tokens_as_recent_calls_did() -> None:
    speed = TierSpeed()
    assert speed.estimate_s(0, 48) == 48 * speed.decode_s_per_token  # nothing measured: the longest answer
    speed.update(GenerationStats(generated_tokens=10, decode_s=0.1))
    assert speed.estimate_s(0, 48) == 10 * 0.01
    assert speed.estimate_s(0, 4) == 4 * 0.01  # never more than the request may decode
    assert speed.estimate_s(100, 4) == 0.01 + 100 * speed.prefill_s_per_token + 4 * 0.01
    speed.update(GenerationStats(generated_tokens=1, decode_s=0.01), inline_answer=False)  # cancelled by a keystroke
    speed.update(GenerationStats(generated_tokens=300, decode_s=3.0), inline_answer=False)  # a chat answer
    assert speed.generated_tokens == 10


def test_a_call_cut_off_before_its_prefill_teaches_nothing_about_prefill() -> None:
    speed = TierSpeed()
    speed.update(measured(prefill_ms=1.0, decode_ms=10.0))
    speed.update(GenerationStats(prefilled_tokens=0, prefill_s=0.0))  # superseded while queued
    speed.update(GenerationStats(prefilled_tokens=200, prefill_s=0.0))  # stats of a call that never ran
    assert round(speed.prefill_s_per_token, 6) == 0.0009


def test_a_deadline_full_would_miss_goes_to_mini_and_one_it_meets_stays() -> None:
    router = Router(("full", "mini"))
    router.record("full", measured(prefill_ms=1.0, decode_ms=10.0))
    # 20 tokens (as the measured call) at 10 ms = 0.2 s of decode, plus one step and the uncached
    # part of the prompt at 0.9 ms a token
    assert router.choose(inline(1.0), 100, 100.0)[0] == "full"
    assert router.choose(inline(1.0), 900, 100.0)[0] == "mini"
    assert router.choose(inline(0.15), 0, 100.0)[0] == "mini"


def test_requested_tier_and_spent_budget() -> None:
    router = Router(("full", "mini"), full_token_budget=100)
    request = inline(10.0)
    request.tier = "full"
    assert router.choose(request, 10, 100.0) == ("full", "requested")
    router.record("full", GenerationStats(prefilled_tokens=95))
    assert router.choose(inline(10.0), 10, 100.0) == ("mini", "full budget 90% spent")


def test_a_full_tier_that_has_answered_nothing_is_expected_to_write_as_much_as_mini_did() -> None:
    """Answers' length is the code's, not the model's: assuming max_tokens for a full tier with no
    answers of its own sent every request to mini, so it never had one."""
    router = Router(("full", "mini"))
    router.record("full", GenerationStats(prefilled_tokens=100, prefill_s=0.5), inline_answer=False)  # warm-up
    router.speeds["full"].decode_s_per_token = 0.03
    assert router.choose(inline(2.0, max_tokens=96), 10, 100.0)[0] == "mini"  # 96 tokens would take 2.9 s
    router.record("mini", GenerationStats(generated_tokens=8, decode_s=0.08))
    assert router.choose(inline(2.0, max_tokens=96), 10, 100.0)[0] == "full"
