"""How much each input feature of each linear layer matters, measured on calibration text.

A 4-bit block of 32 weights cannot be exact, so the exporter chooses where its error falls. The
inputs of a layer are far from uniform: a few features of a Qwen2 residual stream run hundreds of
times larger than the rest, and an error on their weights costs that much more in the output.
This runs the numpy reference forward over ``calibration.TEXTS``, one layer at a time (one layer's
weights in memory), and keeps the mean square of every input feature, the "importance matrix"
llama.cpp's imatrix quantizations weigh their rounding by.
"""

from __future__ import annotations

import logging
import time

import numpy as np
from tokenizers import Tokenizer

from ghostwright.export import calibration
from ghostwright.export.reference import attention_mask, block, rms_norm, rope_angles
from ghostwright.export.source import BIAS_TENSORS, LAYER_TENSORS, ModelSource

log = logging.getLogger(__name__)

MAX_SEQUENCE = 512  # tokens of one calibration text (attention is quadratic in it)
HEAD_INPUT = "head_in"
# What each linear weight reads, by the roles ``reference.block`` observes.
ROLES = {"q": "attn_in", "k": "attn_in", "v": "attn_in", "o": "o_in", "gate": "mlp_in", "up": "mlp_in",
         "down": "down_in"}


def inputs_of(tensor: str) -> str:
    """The importance key of what a weight multiplies: ``layers.3.up`` -> ``layers.3.mlp_in``."""
    if tensor in ("lm_head", "embed"):  # a tied embedding is the head too
        return HEAD_INPUT
    layer, _, name = tensor.rpartition(".")
    return f"{layer}.{ROLES[name]}"


def calibration_ids(source: ModelSource) -> list[list[int]]:
    """The calibration texts as token ids, one sequence each, with the model's BOS if it adds one."""
    tokenizer = Tokenizer.from_str(source.tokenizer_json)
    bos = [source.special_tokens.bos] if source.add_bos and source.special_tokens.bos is not None else []
    return [(bos + tokenizer.encode(text, add_special_tokens=False).ids)[:MAX_SEQUENCE]
            for text in calibration.TEXTS]


def input_importance(source: ModelSource, sequences: list[list[int]] | None = None) -> dict[str, np.ndarray]:
    """``layers.{i}.{role}`` (roles as ``reference.block`` names them) and ``head_in`` -> the mean
    square of each input feature over every token of ``sequences`` (``calibration_ids``' by
    default), float32 of the layer's input width."""
    started = time.perf_counter()
    c = source.config
    sequences = sequences or calibration_ids(source)
    embed = source.load_tensor("embed")
    states = [embed[np.asarray(ids)].astype(np.float32) for ids in sequences]
    del embed
    angles = [rope_angles(c, np.arange(len(ids))) for ids in sequences]
    masks = [attention_mask(c, len(ids)) for ids in sequences]
    tokens = sum(len(ids) for ids in sequences)
    sums: dict[str, np.ndarray] = {}
    names = LAYER_TENSORS + (BIAS_TENSORS if c.attention_bias else ())
    for layer in range(c.num_layers):
        weights = {name: source.load_tensor(f"layers.{layer}.{name}") for name in names}

        def observe(role: str, inputs: np.ndarray, layer: int = layer) -> None:
            key = f"layers.{layer}.{role}"
            square = np.einsum("ti,ti->i", inputs, inputs, dtype=np.float64)
            sums[key] = sums[key] + square if key in sums else square

        for s, (cos, sin) in enumerate(angles):
            states[s] = block(c, weights, states[s], cos, sin, masks[s], observe)
    norm = source.load_tensor("norm")
    sums[HEAD_INPUT] = sum(np.einsum("ti,ti->i", h, h, dtype=np.float64)
                           for h in (rms_norm(x, norm, c.rms_norm_eps) for x in states))
    log.info("measured input importance on %d calibration tokens in %.1fs", tokens, time.perf_counter() - started)
    return {key: (total / tokens).astype(np.float32) for key, total in sums.items()}
