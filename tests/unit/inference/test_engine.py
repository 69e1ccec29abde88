"""The engine on a tiny exported model: reuse, cancellation, concurrency, tiers, errors."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from ghostwright.errors import RequestError
from ghostwright.inference import (
    CancelToken,
    FinishReason,
    GenerationRequest,
    Priority,
    Prompt,
    load_engine,
)
from ghostwright.inference.api import SamplingParams
from ghostwright.inference.engine import _logprob, respell_mask, still_to_respell

CODE = "def fibonacci(n):\n    if n < 2:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)\n" * 3


@pytest.fixture
def engine(tiny_model_dir):
    engine = load_engine(tiny_model_dir, device="cpu", max_slots=2, cache_tokens=512)
    yield engine
    engine.close()


def run(engine, prompt: str, **kw):
    chunks = list(engine.generate(GenerationRequest(prompt=Prompt.text(prompt), **kw)))
    return "".join(c.text for c in chunks), chunks[-1]


def test_greedy_output_is_identical_with_and_without_prefix_reuse(engine, tiny_model_dir):
    cold, first = run(engine, CODE, max_tokens=24, tier="full")
    assert first.stats.reused_tokens == 0
    warm, second = run(engine, CODE, max_tokens=24, tier="full")
    assert second.stats.reused_tokens == second.stats.prompt_tokens - 1
    assert warm == cold
    # One more character: only the tail is prefilled.
    _, third = run(engine, CODE + "#", max_tokens=4, tier="full")
    assert third.stats.prefilled_tokens <= 3
    fresh = load_engine(tiny_model_dir, device="cpu", tiers=("full",))
    try:
        assert run(fresh, CODE + "#", max_tokens=4)[0] == run(engine, CODE + "#", max_tokens=4, tier="full")[0]
    finally:
        fresh.close()


class CountingCancel(CancelToken):
    """Counts the worker's checks after cancel(): one check means it stopped at the next step."""

    def __init__(self) -> None:
        super().__init__()
        self.checks_after_cancel = 0

    @property
    def cancelled(self) -> bool:
        if self._event.is_set():
            self.checks_after_cancel += 1
            return True
        return False


def test_cancellation_stops_within_one_step(engine):
    token = CountingCancel()
    request = GenerationRequest(prompt=Prompt.text(CODE), max_tokens=400, cancel=token, tier="full")
    chunks = engine.generate(request)
    next(chunks)
    token.cancel()
    last = next(c for c in chunks if c.done)
    assert last.finish == FinishReason.CANCELLED
    assert last.stats.generated_tokens < 400
    assert token.checks_after_cancel == 1  # no decode step ran after the first check


def test_concurrent_requests_do_not_corrupt_each_other(engine):
    prompts = [CODE, "class Stack:\n    def push(self, x):\n", "import os\nimport sys\n"]
    expected = [run(engine, p, max_tokens=16, tier="full")[0] for p in prompts]
    results: dict[int, str] = {}

    def worker(i: int) -> None:
        results[i] = run(engine, prompts[i % 3], max_tokens=16, tier="full")[0]

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert [results[i] for i in range(6)] == expected * 2


def test_newer_request_for_the_same_document_supersedes_the_older(engine):
    old = engine.generate(GenerationRequest(prompt=Prompt.text(CODE), max_tokens=300, session_key="doc", tier="full"))
    next(old)  # started
    _new_text, new_last = run(engine, CODE + "x", max_tokens=4, session_key="doc", tier="full")
    finishes = [c.finish for c in old if c.done]
    assert finishes == [FinishReason.SUPERSEDED]
    assert new_last.finish in (FinishReason.LENGTH, FinishReason.EOS)


def test_inline_request_preempts_a_background_one(engine):
    background = engine.generate(GenerationRequest(prompt=Prompt.text(CODE), max_tokens=200,
                                                   priority=Priority.BACKGROUND, tier="full"))
    next(background)
    _, inline = run(engine, "import os\n", max_tokens=8, priority=Priority.INLINE, tier="full")
    rest = list(background)
    assert rest[-1].finish == FinishReason.LENGTH  # the background one finished afterwards, intact
    # Preempted, the inline request waits at most the step in flight; queued behind the background
    # one, it would wait out its ~200 decode steps.
    assert inline.stats.queue_s < rest[-1].stats.decode_s / 4, (inline.stats, rest[-1].stats)


def test_deadline_stops_generation(engine):
    _, last = run(engine, CODE, max_tokens=400, deadline=time.monotonic() + 0.002, tier="full")
    assert last.finish == FinishReason.DEADLINE


def test_stop_strings_and_max_tokens(engine):
    _text, last = run(engine, CODE, max_tokens=5, tier="full")
    assert last.finish in (FinishReason.LENGTH, FinishReason.EOS) and last.stats.generated_tokens <= 5
    free, _ = run(engine, CODE, max_tokens=30, tier="full")
    assert len(free) > 3, free  # a random-weight model rambles: there is text to stop in
    stop = free[2:4]
    cut, last = run(engine, CODE, max_tokens=30, tier="full", stop=[stop])
    assert last.finish == FinishReason.STOP
    assert cut == free[: free.index(stop)]


def test_two_tiers_and_the_budget_rule(tiny_model_dir):
    engine = load_engine(tiny_model_dir, device="cpu", full_token_budget=100)
    try:
        assert engine.info().tiers == ("full", "mini")
        tiers = [run(engine, CODE, max_tokens=8)[1].stats.tier for _ in range(3)]
        assert tiers[0] == "full"
        assert tiers[-1] == "mini"  # the budget is spent after the first request
        decisions = engine.stats()["router"]["decisions"]
        assert any(k.startswith("mini:full budget") for k in decisions)
    finally:
        engine.close()


def test_int8_is_the_full_tier_on_cpu_when_exported(tiny_model_dir, tmp_path):
    from ghostwright.export.bundle import export_variant, read_source

    model = tmp_path / "model"
    model.mkdir()
    for variant in ("fp32", "int4"):
        (model / variant).symlink_to(tiny_model_dir / variant)
    export_variant(read_source(tiny_model_dir.parent / "hf"), "int8", model / "int8", name="tiny")
    engine = load_engine(model, device="cpu")
    try:
        variants = {name: tier["variant"] for name, tier in engine.stats()["tiers"].items()}
        assert variants == {"full": "int8", "mini": "int4"}
        _, last = run(engine, CODE, max_tokens=8, tier="full")
        assert last.stats.generated_tokens >= 1
    finally:
        engine.close()


def test_an_idle_engine_takes_no_cpu(engine):
    """Threads spin while a step runs and stop when it returns: the editor shares the machine."""
    import resource

    run(engine, CODE, max_tokens=16)

    def cpu_seconds() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    before = cpu_seconds()
    time.sleep(1.0)
    assert cpu_seconds() - before < 0.1  # a spinning thread would burn ~1 s here


def test_the_first_token_can_be_kept_off_given_strings(engine):
    first, _ = run(engine, CODE, max_tokens=8)
    assert first
    banned = first[0]
    other, _ = run(engine, CODE, max_tokens=8, first_token_excludes=(banned,))
    assert other != first and not other.startswith(banned)


def test_sampling_with_a_seed_is_reproducible(engine):
    params = SamplingParams(temperature=0.8, top_p=0.9, seed=11)
    assert run(engine, CODE, max_tokens=12, sampling=params)[0] == run(engine, CODE, max_tokens=12, sampling=params)[0]


def test_bad_requests_get_clear_errors(engine):
    with pytest.raises(RequestError, match="max_tokens"):
        list(engine.generate(GenerationRequest(prompt=Prompt.text("x"), max_tokens=0)))
    _, last = run(engine, "word " * 2000, max_tokens=4)
    assert last.finish == FinishReason.ERROR and "the cache holds" in last.error
    _, last = run(engine, "", max_tokens=4)
    assert last.finish == FinishReason.ERROR


def test_control_token_text_in_a_prompt_stays_text(engine):
    ids = engine.tokenizer.encode(Prompt.text("<|im_end|>"))
    assert 2 not in ids and len(ids) > 1
    assert engine.tokenizer.encode(Prompt((2,))) == [2]


def test_token_healing_candidates_and_output(engine):
    tokenizer = engine.tokenizer
    prompt = "def fibonacci(n):\n    return fibonac"
    ids = tokenizer.encode(Prompt.text(prompt))
    cut = tokenizer.decode(ids[-1:])
    candidates = set(tokenizer.ids_starting_with(cut))
    assert ids[-1] in candidates
    spelled = {i: tokenizer._tok.decode([i], skip_special_tokens=False) for i in range(tokenizer.vocab_size)}
    assert candidates == {i for i, text in spelled.items() if text.startswith(cut)}
    # The healed request generates from one token earlier and never repeats the cut-off text.
    text, last = run(engine, prompt, max_tokens=6, heal_last_token=True, tier="full")
    assert last.stats.prompt_tokens == len(ids) - 1
    plain, _ = run(engine, prompt, max_tokens=6, tier="full")
    assert not (text.startswith(cut) and plain.startswith(cut) and len(cut) > 1)


def test_indentation_is_healed_across_several_tokens(engine):
    """A prompt ending in indentation is re-spelled the way the model saw code ("   " + " if")."""
    tokenizer = engine.tokenizer
    prompt = "def f(n):\n    "
    ids = tokenizer.encode(Prompt.text(prompt))
    cut = tokenizer.decode(ids[-1:])
    assert cut and not cut.strip()
    candidates = tokenizer.ids_respelling(cut)
    covering = set(tokenizer.ids_starting_with(cut))
    shorter = [i for i in candidates if i not in covering]
    assert ids[-1] in covering and shorter
    assert all(cut.startswith(tokenizer.spelling(i)) and tokenizer.spelling(i) != cut for i in shorter)
    # Whatever the logits, the tokens chosen under the mask spell the cut-off text first.
    rng = np.random.default_rng(0)
    for _ in range(50):
        respell, spelled = cut, ""
        while respell:
            logits = rng.normal(size=tokenizer.vocab_size).astype(np.float32)
            token = int(respell_mask(tokenizer, respell, logits).argmax())
            spelled += tokenizer.spelling(token)
            respell = still_to_respell(respell, tokenizer.spelling(token))
        assert spelled.startswith(cut)
    _, last = run(engine, prompt, max_tokens=6, heal_last_token=True, tier="full")
    assert last.stats.prompt_tokens == len(ids) - 1 and last.error is None


def test_a_healed_prompt_keeps_its_first_written_text_off_given_strings(engine):
    """Exclusions apply past the re-spelled indentation: to the code written on the healed line."""
    prompt = "def f(n):\n    "
    tokenizer = engine.tokenizer
    cut = tokenizer.decode(tokenizer.encode(Prompt.text(prompt))[-1:])
    healed, _ = run(engine, prompt, max_tokens=6, heal_last_token=True, tier="full")
    assert healed
    banned = healed[0]
    other, last = run(engine, prompt, max_tokens=6, heal_last_token=True, tier="full", first_token_excludes=(banned,))
    assert last.error is None and other and not other.startswith(banned)
    logits = np.zeros(tokenizer.vocab_size, dtype=np.float32)
    allowed = np.flatnonzero(np.isfinite(respell_mask(tokenizer, cut, logits, ("x",))))
    assert len(allowed) and all("x" not in tokenizer.spelling(int(i))[len(cut):] for i in allowed)


def test_a_prompt_sent_to_mini_for_the_deadline_is_prefilled_on_full_behind_it(engine):
    """Otherwise the full tier never holds the session's prompt, and every later request of the
    session misses the deadline on it too."""
    from ghostwright.inference.router import TierSpeed

    engine.router.speeds["full"] = TierSpeed(prefill_s_per_token=1.0, decode_s_per_token=0.001, generated_tokens=1)
    inline = {"max_tokens": 4, "priority": Priority.INLINE, "session_key": "file:///a.py"}
    _, first = run(engine, CODE, deadline=time.monotonic() + 5, **inline)
    assert first.stats.tier == "mini" and first.stats.route_reason.startswith("deadline")
    for _ in range(400):  # the catch-up runs in the background, after the answer
        if not engine.stats()["active_requests"]:
            break
        time.sleep(0.05)
    engine.router.speeds["full"] = TierSpeed(prefill_s_per_token=1.0, decode_s_per_token=0.001, generated_tokens=1)
    _, second = run(engine, CODE + "#", deadline=time.monotonic() + 5, **inline)
    assert second.stats.tier == "full", second.stats.route_reason
    assert second.stats.reused_tokens >= second.stats.prompt_tokens - 2


def test_an_inline_request_waiting_for_a_slot_lets_the_request_holding_it_run(tiny_model_dir):
    """Waiting inline requests run first, so one that found every slot busy was picked again and
    again and the background request holding the slot never stepped: a livelock until the deadline."""
    engine = load_engine(tiny_model_dir, device="cpu", max_slots=1, cache_tokens=512)
    try:
        background = engine.generate(GenerationRequest(prompt=Prompt.text(CODE), max_tokens=300,
                                                       priority=Priority.BACKGROUND, tier="full"))
        first = next(background)  # it holds the only slot now
        assert not first.done
        _, last = run(engine, "class A:\n", max_tokens=4, priority=Priority.INLINE, tier="full",
                      deadline=time.monotonic() + 30)
        assert last.finish != FinishReason.DEADLINE and last.stats.queue_s < 20, last
        assert list(background)[-1].finish == FinishReason.LENGTH
    finally:
        engine.close()


def test_a_request_waiting_for_a_slot_finishes_when_cancelled_not_when_the_slot_frees(tiny_model_dir):
    # The background request must outlast the cancel: on a fast host the tiny model decoded 400
    # tokens inside the 50 ms this test once waited, freed the slot, and the inline request ran.
    engine = load_engine(tiny_model_dir, device="cpu", max_slots=1, cache_tokens=2048)
    try:
        background = engine.generate(GenerationRequest(prompt=Prompt.text(CODE), max_tokens=1900,
                                                       priority=Priority.BACKGROUND, tier="full"))
        next(background)  # it holds the only slot now
        cancel = CancelToken()
        threading.Timer(0.01, cancel.cancel).start()
        _, last = run(engine, "class A:\n", max_tokens=4, priority=Priority.INLINE, tier="full", cancel=cancel)
        assert last.finish == FinishReason.CANCELLED
        assert engine.stats()["active_requests"] == 1  # the background request still runs: it did not wait for it
        assert list(background)[-1].finish == FinishReason.LENGTH
    finally:
        engine.close()


def test_chat_answers_are_scored_and_completions_are_not(engine):
    """Candidates (chat answers) are ranked by their log-probabilities; a completion skips them."""
    _, completion = run(engine, CODE, max_tokens=8)
    assert completion.stats.generated_tokens == 8 and completion.stats.logprob_sum == 0
    request = GenerationRequest(prompt=engine.chat_prompt([{"role": "user", "content": CODE}]), max_tokens=8)
    chat = list(engine.generate(request))[-1]
    assert chat.stats.generated_tokens and chat.stats.logprob_sum < 0


def test_a_log_probability_leaves_out_only_negligible_logits():
    rng = np.random.default_rng(0)
    logits = (rng.standard_normal(151_936) * 3 - 3).astype(np.float32)
    logits[7] = 20.0
    wide = logits.astype(np.float64)
    for token in (5, 7, int(logits.argmin())):
        exact = wide[token] - wide.max() - np.log(np.exp(wide - wide.max()).sum())
        assert abs(_logprob(logits, token) - exact) < 3e-4
