"""Rounding weighed by what each input carries, and the calibration pass that measures it."""

from __future__ import annotations

import numpy as np
import pytest

from ghostwright.export import reference
from ghostwright.export.bundle import read_source
from ghostwright.export.importance import calibration_ids, input_importance, inputs_of
from ghostwright.export.quantize import BLOCK_SIZE, dequantize, quantize
from support.tiny_model import TinySpec


def _weighted_error(w: np.ndarray, back: np.ndarray, importance: np.ndarray) -> float:
    return float((np.square(back - w) * importance).sum())


def test_4_bit_rounding_errs_where_the_inputs_are_small():
    """A few input features carry far more than the rest (as a Qwen2 residual stream's do): the
    expected output error, sum over features of importance x squared weight error, must drop."""
    rng = np.random.default_rng(3)
    w = rng.standard_normal((256, 128)).astype(np.float32)
    importance = np.full(128, 0.01, np.float32)
    importance[rng.choice(128, 12, replace=False)] = 50.0
    plain = _weighted_error(w, dequantize(quantize(w, 4)), importance)
    weighed = _weighted_error(w, dequantize(quantize(w, 4, importance=importance)), importance)
    assert weighed < 0.8 * plain


def test_4_bit_scales_are_least_squares_for_their_codes():
    """After rounding, each block's scale is refitted to its codes: moving it either way is worse."""
    rng = np.random.default_rng(4)
    w = rng.standard_normal((64, 96)).astype(np.float32)
    q = quantize(w, 4)
    for nudge in (0.995, 1.005):
        moved = q.__class__(q.bits, q.packed, q.scales * np.float32(nudge), q.zero_points, q.in_features)
        err_moved = np.square(dequantize(moved) - w).reshape(64, -1, BLOCK_SIZE).sum(-1)
        err = np.square(dequantize(q) - w).reshape(64, -1, BLOCK_SIZE).sum(-1)
        assert (err <= err_moved + 1e-6).all()


def test_importance_must_match_the_weight():
    with pytest.raises(ValueError, match="input features"):
        quantize(np.ones((4, 64), np.float32), 4, importance=np.ones(32, np.float32))


def test_importance_is_the_mean_square_of_each_layers_inputs(tiny_sources):
    source = read_source(tiny_sources(TinySpec(architecture="qwen2", seed=7), "hf"))
    c = source.config
    importance = input_importance(source)
    widths = {"attn_in": c.hidden_size, "o_in": c.num_heads * c.head_dim, "mlp_in": c.hidden_size,
              "down_in": c.intermediate_size}
    assert set(importance) == {f"layers.{i}.{role}" for i in range(c.num_layers) for role in widths} | {"head_in"}
    for key, value in importance.items():
        role = key.rpartition(".")[2]
        assert value.shape == (widths.get(role, c.hidden_size),) and (value >= 0).all() and value.sum() > 0

    # The first layer's attention reads the normed embeddings of the calibration tokens.
    ids = np.concatenate(calibration_ids(source))
    normed = reference.rms_norm(source.load_tensor("embed")[ids], source.load_tensor("layers.0.attn_norm"),
                                c.rms_norm_eps)
    np.testing.assert_allclose(importance["layers.0.attn_in"], np.square(normed).mean(0), rtol=1e-4)
    assert inputs_of("layers.0.k") == "layers.0.attn_in" and inputs_of("lm_head") == "head_in"
