"""Speculative decoding by prompt lookup: drafts, and output identical to plain greedy."""

from __future__ import annotations

import pytest

from ghostwright.inference import FinishReason, GenerationRequest, Prompt, load_engine
from ghostwright.inference.prompt_lookup import PromptLookup

REPEATS = [
    "def fibonacci(n):\n    if n < 2:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)\n" * 3,
    "class Stack:\n    def __init__(self):\n        self.items = []\n\n    def push(self, x):\n"
    "        self.items.append(x)\n\n    def pop(self):\n        return self.items.pop()\n\n",
    "for i in range(10):\n    print(i)\nfor i in range(10):\n    print(i)\nfor",
]


def test_draft_is_what_followed_the_latest_earlier_occurrence_of_the_longest_tail():
    lookup = PromptLookup([1, 2, 3, 9, 1, 2, 3, 4, 5, 7, 2, 3], capacity=32)
    assert lookup.draft(2) == [4, 5]  # tail (7, 2, 3) never occurred; (2, 3) did, latest before 4 5
    lookup.append(4)
    assert lookup.draft(8) == [5, 7, 2, 3, 4]  # (2, 3, 4) then: everything after it, up to the end
    assert PromptLookup([1, 2, 3], capacity=4).draft(4) == []  # no token occurred twice
    assert PromptLookup([5, 5], capacity=2).draft(3) == [5]
    grown = PromptLookup([1, 2], capacity=2)
    for token in (1, 2, 1):
        grown.append(token)  # past the capacity: the buffer grows
    assert grown.draft(3) == [2, 1]


@pytest.fixture(scope="module")
def engine(tiny_model_dir):
    engine = load_engine(tiny_model_dir, device="cpu", max_slots=2, cache_tokens=512, tiers=("full",))
    yield engine
    engine.close()


def generate(engine, prompt: str, draft_tokens: int, **kw) -> tuple[str, FinishReason]:
    engine.draft_tokens = draft_tokens
    chunks = list(engine.generate(GenerationRequest(prompt=Prompt.text(prompt), **kw)))
    return "".join(c.text for c in chunks), chunks[-1].finish


def test_greedy_output_is_identical_with_drafts(engine):
    assert engine.tiers["full"].decoder.multi_row
    before = dict(engine.stats()["speculation"])
    for prompt in REPEATS:
        for max_tokens in (1, 7, 60):
            plain = generate(engine, prompt, 0, max_tokens=max_tokens)
            for k in (1, 4, 8):
                assert generate(engine, prompt, k, max_tokens=max_tokens) == plain, (prompt, max_tokens, k)
        stop = generate(engine, prompt, 0, max_tokens=60)[0][5:9]  # a stop string inside a drafted run
        if stop:
            assert generate(engine, prompt, 8, max_tokens=60, stop=[stop]) == generate(
                engine, prompt, 0, max_tokens=60, stop=[stop])
    after = engine.stats()["speculation"]
    accepted, drafted = after["accepted"] - before["accepted"], after["drafted"] - before["drafted"]
    assert 0 < accepted < drafted  # both paths ran: drafts kept and drafts rolled back


def test_sampled_requests_draft_nothing(engine):
    from ghostwright.inference.api import SamplingParams

    before = engine.stats()["speculation"]["steps"]
    generate(engine, REPEATS[0], 8, max_tokens=30, sampling=SamplingParams(temperature=0.8, seed=1))
    assert engine.stats()["speculation"]["steps"] == before


def test_a_request_can_ask_for_drafts_when_the_engine_default_is_off(engine):
    engine.draft_tokens = 0
    before = engine.stats()["speculation"]["steps"]
    plain = "".join(c.text for c in engine.generate(GenerationRequest(prompt=Prompt.text(REPEATS[0]), max_tokens=40)))
    assert engine.stats()["speculation"]["steps"] == before  # the engine's default: no drafting
    asked = "".join(c.text for c in engine.generate(GenerationRequest(prompt=Prompt.text(REPEATS[0]), max_tokens=40,
                                                                      draft_tokens=4)))
    assert engine.stats()["speculation"]["steps"] > before
    assert asked == plain
