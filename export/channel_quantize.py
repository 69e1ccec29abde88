"""Symmetric int8 per output channel, the layout DynamicQuantizeMatMul reads.

The prefill graph (export/graph.py) multiplies int8 activations, quantized per call, by these
weights: onnxruntime then runs its u8 x s8 GEMM, which uses AMX or VNNI where the CPU has them
(2,180 against 273 GOP/s for MatMulNBits' 8-bit path on a 512 x 896 x 4864 product, measured on
an AMX Xeon). One scale per output channel is all that GEMM can apply after the integer sum,
so the weight's blocks are rounded again on a coarser grid: 127 steps either side of the
channel's largest magnitude.
"""

from __future__ import annotations

import numpy as np


def quantize_channels(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(codes, scales) of a (N, K) weight: int8 codes laid out (K, N) as the GEMM's B, and
    float32 scales (N,) with ``weight ~= (codes * scales).T``. Zero rows get scale 1."""
    w = weight.astype(np.float32)
    scales = np.abs(w).max(axis=1) / 127.0
    scales[scales == 0] = 1.0
    codes = np.clip(np.rint(w / scales[:, None]), -127, 127).astype(np.int8)
    return np.ascontiguousarray(codes.T), scales.astype(np.float32)
