"""Block-wise 4- or 8-bit quantization in the layout MatMulNBits reads.

Each block of 32 input features gets a float scale and an integer zero point: 4 bits
round asymmetrically over the block's range (widened to include 0, the scale searched among
candidates and refitted to the codes it gave, the error weighed by each input feature's
importance when the export measured it);
8 bits take per block the better of a symmetric grid around 128 (which carries a GGUF's Q8_0
blocks over exactly) and the asymmetric one. Integer zero
points keep MatMulNBits on onnxruntime's fast int8 path: float zero points measured 40x
slower there. 4-bit codes and zero points are packed two per byte, low nibble first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BLOCK_SIZE = 32


@dataclass(frozen=True)
class QuantizedWeight:
    bits: int  # 4 or 8
    packed: np.ndarray  # uint8 (N, k_blocks, BLOCK_SIZE * bits // 8)
    scales: np.ndarray  # float32 (N, k_blocks)
    zero_points: np.ndarray  # uint8 (N, ceil(k_blocks * bits / 8))
    in_features: int  # K before padding to whole blocks


def _pack_nibbles(q: np.ndarray) -> np.ndarray:
    """Pairs along the last axis -> one byte each, first of the pair in the low nibble."""
    if q.shape[-1] % 2:
        q = np.concatenate([q, np.zeros((*q.shape[:-1], 1), q.dtype)], axis=-1)
    return np.ascontiguousarray(q[..., 0::2] | (q[..., 1::2] << 4)).astype(np.uint8)


def _unpack_nibbles(packed: np.ndarray, count: int) -> np.ndarray:
    out = np.empty((*packed.shape[:-1], packed.shape[-1] * 2), dtype=np.uint8)
    out[..., 0::2] = packed & 0x0F
    out[..., 1::2] = packed >> 4
    return out[..., :count]


# Scales tried per block, as multiples of the plain range/levels scale. A slightly
# smaller scale often lands more weights on grid points; on SmolLM2's Q4_1 blocks the
# search cuts the squared error by about a quarter (a second rounding is unavoidable:
# Q4_1's float minimum has no integer zero point).
SCALE_CANDIDATES = np.linspace(0.80, 1.05, 26, dtype=np.float32)
SEARCH_ROWS = 64  # rows of a weight searched at once
# An input feature the calibration text never exercised still counts this much (relative to the
# layer's mean importance): the text is short, and a user's prompts are not it.
IMPORTANCE_FLOOR = 0.1


def feature_weights(importance: np.ndarray | None, k: int, block_size: int) -> np.ndarray:
    """(k_blocks, block) weights of each input feature's rounding error: its importance (the
    mean square of what it multiplies) over the layer's mean, plus the floor; ones without."""
    blocks = -(-k // block_size)
    weights = np.ones(blocks * block_size, np.float32)
    if importance is not None:
        if importance.shape != (k,):
            raise ValueError(f"importance has shape {importance.shape}; the weight has {k} input features")
        mean = float(importance.mean())
        if np.isfinite(mean) and mean > 0:  # else the calibration pass overflowed or saw nothing: weigh alike
            weights[:k] = importance / mean + IMPORTANCE_FLOOR
        weights[k:] = 0.0  # padding: its weights are zero and so are its inputs
    return weights.reshape(blocks, block_size)


def _search_scales(blocks: np.ndarray, levels: int, weights: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per block, the (scale, integer zero point, codes) with the least weighted squared error. In
    float32 and a slab of rows at a time: the temporaries then stay in cache (the whole tensor at
    once in float64 made a 0.5B model's int4 export take 3.5 minutes, a third of it page faults)."""
    scales = np.empty(blocks.shape[:-1], np.float32)
    zeros = np.empty(blocks.shape[:-1], np.float32)
    codes = np.empty(blocks.shape, np.uint8)
    for start in range(0, blocks.shape[0], SEARCH_ROWS):
        part = slice(start, start + SEARCH_ROWS)
        scales[part], zeros[part], codes[part] = _search_slab(blocks[part], np.float32(levels), weights)
    return scales, zeros, codes


def _search_slab(blocks: np.ndarray, levels: np.float32, weights: np.ndarray) -> tuple[np.ndarray, ...]:
    """Each candidate scale rounds the block; the scale is then refitted to those codes by weighted
    least squares (the codes stay: ``(code - zero) * scale`` is all MatMulNBits computes)."""
    low = np.minimum(blocks.min(axis=-1), 0.0)
    high = np.maximum(blocks.max(axis=-1), 0.0)
    base = (high - low) / levels
    base = np.where(base > 0, base, np.float32(1.0))
    best_err = np.full(base.shape, np.inf, np.float32)
    best_scale, best_zero = base, np.zeros(base.shape, np.float32)
    best_rounding = base  # the scale whose rounding gave the best codes (before the refit)
    weighted_blocks = blocks * weights
    for factor in SCALE_CANDIDATES:
        scale = base * factor
        zero = np.clip(np.rint(-low / scale), 0, levels)
        codes = np.clip(np.rint(blocks / scale[..., None]) + zero[..., None], 0, levels)
        steps = codes - zero[..., None]
        # With s the scale, c the steps and x the block: sum w (s c - x)^2 = s^2 P - 2 s X + const,
        # where P = sum w c^2 and X = sum w c x; least at s = X / P, where it is const - X^2 / P.
        cross = np.einsum("...i,...i->...", steps, weighted_blocks)
        steps *= steps
        power = np.einsum("...i,...i->...", steps, np.broadcast_to(weights, steps.shape))
        fitted = np.divide(cross, power, out=np.zeros_like(cross), where=power > 0)
        usable = fitted > 0
        err = np.where(usable, -cross * fitted, scale * scale * power - 2 * scale * cross)
        better = err < best_err
        best_err = np.where(better, err, best_err)
        best_rounding = np.where(better, scale, best_rounding)
        best_scale = np.where(better, np.where(usable, fitted, scale), best_scale)
        best_zero = np.where(better, zero, best_zero)
    codes = np.clip(np.rint(blocks / best_rounding[..., None]) + best_zero[..., None], 0, levels)
    return best_scale, best_zero, codes.astype(np.uint8)


def _eight_bit_scales(blocks: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """8 bits, per block the better of two grids, no search (it was the export's slowest step on a
    151,936-row embedding): symmetric, scale = max |w| / 127 around 128, which is exactly a GGUF
    Q8_0 block (d = amax / 127), so those come through without a second rounding; or asymmetric
    over the block's range, which fits other blocks more tightly."""
    sym_scale = np.abs(blocks).max(axis=-1) / 127.0
    sym_scale = np.where(sym_scale > 0, sym_scale, 1.0)
    sym_zero = np.full(sym_scale.shape, 128.0)
    low = np.minimum(blocks.min(axis=-1), 0.0)
    high = np.maximum(blocks.max(axis=-1), 0.0)
    asym_scale = (high - low) / 255.0
    asym_scale = np.where(asym_scale > 0, asym_scale, 1.0)
    asym_zero = np.clip(np.rint(-low / asym_scale), 0, 255)

    def error(scale: np.ndarray, zero: np.ndarray) -> np.ndarray:
        q = np.clip(np.rint(blocks / scale[..., None]) + zero[..., None], 0, 255)
        return (np.square((q - zero[..., None]) * scale[..., None] - blocks) * weights).sum(axis=-1)

    symmetric = error(sym_scale, sym_zero) <= error(asym_scale, asym_zero)
    return (np.where(symmetric, sym_scale, asym_scale).astype(np.float32),
            np.where(symmetric, sym_zero, asym_zero))


def quantize(weight: np.ndarray, bits: int = 4, block_size: int = BLOCK_SIZE,
             importance: np.ndarray | None = None) -> QuantizedWeight:
    """Quantize a (N, K) weight along K. ``importance`` (K,), when given, is how much each input
    feature matters (see ``export/importance.py``): the rounding errs where it costs least."""
    if bits not in (4, 8):
        raise ValueError(f"bits must be 4 or 8, got {bits}")
    levels = (1 << bits) - 1
    n, k = weight.shape
    pad = -k % block_size
    w = np.pad(weight.astype(np.float32), ((0, 0), (0, pad))) if pad else weight.astype(np.float32)
    blocks = w.reshape(n, -1, block_size)  # (N, k_blocks, block)
    weights = feature_weights(importance, k, block_size)
    if bits == 8:
        scale, zero = _eight_bit_scales(blocks, weights)
        q = np.clip(np.rint(blocks / scale[..., None]) + zero[..., None], 0, levels).astype(np.uint8)
    else:
        scale, zero, q = _search_scales(blocks, levels, weights)
    zero = zero.astype(np.uint8)
    if bits == 4:
        return QuantizedWeight(4, _pack_nibbles(q), scale, _pack_nibbles(zero), k)
    return QuantizedWeight(8, np.ascontiguousarray(q), scale, zero, k)


def dequantize(weight: QuantizedWeight) -> np.ndarray:
    k_blocks = weight.scales.shape[1]
    if weight.bits == 4:
        q = _unpack_nibbles(weight.packed, weight.packed.shape[-1] * 2).astype(np.float32)
        zero = _unpack_nibbles(weight.zero_points, k_blocks).astype(np.float32)
    else:
        q = weight.packed.astype(np.float32)
        zero = weight.zero_points.astype(np.float32)
    w = (q - zero[..., None]) * weight.scales[..., None]
    return w.reshape(w.shape[0], -1)[:, : weight.in_features]

