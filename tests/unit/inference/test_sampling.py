from __future__ import annotations

import numpy as np

from ghostwright.inference.api import SamplingParams
from ghostwright.inference.sampling import Sampler


def test_greedy_takes_the_argmax():
    logits = np.array([0.1, 3.0, 2.9, -1.0])
    assert Sampler(SamplingParams())(logits) == 1


def test_seeded_sampling_is_reproducible_and_respects_top_k():
    logits = np.linspace(0, 1, 50)
    params = SamplingParams(temperature=1.0, top_k=3, seed=7)
    a = [Sampler(params)(logits) for _ in range(1)]
    sampler_a, sampler_b = Sampler(params), Sampler(params)
    a = [sampler_a(logits) for _ in range(40)]
    b = [sampler_b(logits) for _ in range(40)]
    assert a == b
    assert set(a) <= {47, 48, 49}


def test_top_p_keeps_the_smallest_nucleus():
    logits = np.log(np.array([0.6, 0.3, 0.05, 0.05]))
    sampler = Sampler(SamplingParams(temperature=1.0, top_p=0.8, seed=1))
    assert {sampler(logits) for _ in range(200)} == {0, 1}
