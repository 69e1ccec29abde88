"""Requests decoded as one batch answer exactly what each would alone (tiny exported model)."""

from __future__ import annotations

import threading

import pytest

from ghostwright.inference import FinishReason, GenerationRequest, Prompt, load_engine
from ghostwright.inference.api import SamplingParams

CODE = "def fibonacci(n):\n    if n < 2:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)\n"


@pytest.fixture
def engine(tiny_model_dir):
    engine = load_engine(tiny_model_dir, device="cpu", max_slots=2, cache_tokens=512, tiers=("full",))
    yield engine
    engine.close()


def requests() -> list[GenerationRequest]:
    """Prompts of different lengths (the rows decode at different positions), greedy and sampled,
    one with a stop string and one short, so rows finish at different steps."""
    return [
        GenerationRequest(prompt=Prompt.text(CODE), max_tokens=20),
        GenerationRequest(prompt=Prompt.text(CODE * 2 + "class Tree:\n"), max_tokens=9),
        GenerationRequest(prompt=Prompt.text(CODE), max_tokens=16,
                          sampling=SamplingParams(temperature=0.9, top_p=0.95, seed=7)),
        GenerationRequest(prompt=Prompt.text("import os\n" + CODE), max_tokens=24, stop=["\n\n"]),
    ]


def collect(stream) -> tuple[str, object]:
    chunks = list(stream)
    return "".join(c.text for c in chunks), chunks[-1]


def test_a_batch_answers_what_each_request_answers_alone(engine):
    alone = [collect(engine.generate(r)) for r in requests()]
    together = [None] * 4

    def read(i: int, stream) -> None:  # each stream read by its own thread, as the server does
        together[i] = collect(stream)

    threads = [threading.Thread(target=read, args=(i, s)) for i, s in enumerate(engine.generate_batch(requests()))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    for (text, last), (batched_text, batched_last) in zip(alone, together, strict=True):
        assert batched_text == text
        assert batched_last.finish == last.finish
        assert batched_last.stats.generated_tokens == last.stats.generated_tokens
    assert together[1][1].finish == FinishReason.LENGTH and together[1][1].stats.generated_tokens == 9
    # The shared head was prefilled once: the third prompt is the first one again.
    assert together[2][1].stats.prefilled_tokens == 1


def test_a_cancelled_row_ends_alone_and_the_others_go_on(engine):
    batch = requests()
    batch[0] = GenerationRequest(prompt=Prompt.text(CODE), max_tokens=400)  # long enough to be cancelled
    streams = engine.generate_batch(batch)
    first = next(streams[0])
    assert not first.done
    batch[0].cancel.cancel()
    _, last = collect(streams[0])
    assert last.finish == FinishReason.CANCELLED
    rest = [collect(s) for s in streams[1:]]
    assert all(r[1].finish != FinishReason.CANCELLED for r in rest)
    assert rest[0][0] == collect(engine.generate(requests()[1]))[0]


def test_a_row_whose_prompt_cannot_run_gets_an_error_and_the_others_run(engine):
    batch = [GenerationRequest(prompt=Prompt.text("word " * 2000), max_tokens=4),
             GenerationRequest(prompt=Prompt.text(CODE), max_tokens=6)]
    (_, bad), (text, good) = (collect(s) for s in engine.generate_batch(batch))
    assert bad.finish == FinishReason.ERROR and "the cache holds" in bad.error
    assert good.finish == FinishReason.LENGTH and text == collect(engine.generate(requests()[0]))[0][: len(text)]
