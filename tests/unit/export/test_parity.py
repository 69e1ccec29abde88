"""ONNX logits equal the numpy reference, for each architecture and source format.

Chunked prefill then one-token decode steps through the preallocated KV buffer, each
compared with a full recomputation by the reference: this is also the proof that
decoding with the KV cache equals recomputing everything.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import onnx
import pytest

from ghostwright.export import reference
from ghostwright.export.bundle import export_variant, read_source
from ghostwright.export.graph import VARIANT_SPECS
from ghostwright.export.importance import input_importance, inputs_of
from ghostwright.export.quantize import dequantize, quantize
from ghostwright.inference.decoder import Decoder
from ghostwright.inference.manifest import read_manifest
from support.tiny_model import TinySpec

TEXT = "def fibonacci(n):\n    if n < 2:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)\n"


def run_chunks(bundle, ids: list[int], chunks: list[int]) -> list[np.ndarray]:
    """Logits after each step: prefill chunks of the given sizes, then one token at a time."""
    decoder = Decoder(read_manifest(bundle), "cpu")
    cache = decoder.allocate_cache(256)
    out, pos = [], 0
    sizes = chunks + [1] * (len(ids) - sum(chunks))
    for n in sizes:
        out.append(decoder.forward(cache, ids[pos : pos + n], pos))
        pos += n
    return out


def reference_logits(source, ids, transform=None):
    weights = {n: source.load_tensor(n) for n in source.required_tensors()}
    if transform:
        weights = {n: transform(n, w) for n, w in weights.items()}
    return reference.forward(source.config, weights, ids)


CASES = [
    (TinySpec(architecture="llama"), "hf"),
    (TinySpec(architecture="llama"), "gguf:F32"),
    (TinySpec(architecture="llama", tie=False), "gguf:Q8_0"),
    (TinySpec(architecture="qwen2"), "hf"),
    (TinySpec(architecture="qwen2"), "gguf:F16"),
    (TinySpec(architecture="mistral", sliding_window=8, tie=False), "hf"),
]


@pytest.mark.parametrize(("spec", "kind"), CASES, ids=lambda c: getattr(c, "architecture", c))
def test_fp32_graph_equals_reference(spec, kind, tiny_sources, tiny_tokenizer, tmp_path):
    source = read_source(tiny_sources(spec, kind))
    bundle = export_variant(source, "fp32", tmp_path / "fp32")
    ids = tiny_tokenizer.encode(TEXT).ids
    expected = reference_logits(source, ids)
    steps = run_chunks(bundle, ids, [10, 7])
    positions = [9, 16, *range(17, len(ids))]
    diffs = [np.abs(got - expected[p]).max() for got, p in zip(steps, positions, strict=False)]
    assert max(diffs) < 1e-3, f"max |onnx - reference| = {max(diffs)}"


def test_gguf_and_hf_sources_export_the_same_model(tiny_sources, tiny_tokenizer, tmp_path):
    """GGUF stores Llama's Q/K permuted for adjacent-pair RoPE; both must give one model."""
    spec = TinySpec(architecture="llama", seed=3)
    ids = tiny_tokenizer.encode(TEXT).ids[:24]
    logits = []
    for kind in ("hf", "gguf:F32"):
        bundle = export_variant(read_source(tiny_sources(spec, kind)), "fp32", tmp_path / kind)
        logits.append(np.stack(run_chunks(bundle, ids, [12])))
    assert np.abs(logits[0] - logits[1]).max() < 1e-4


@pytest.mark.parametrize("variant", ["int4", "int8"])
def test_quantized_graph_equals_reference_on_its_quantized_weights(variant, tiny_sources, tiny_tokenizer, tmp_path):
    spec = TinySpec(architecture="qwen2")
    source = read_source(tiny_sources(spec, "hf"))
    bundle = export_variant(source, variant, tmp_path / variant)
    ids = tiny_tokenizer.encode(TEXT).ids
    chosen = VARIANT_SPECS[variant]
    importance = input_importance(source) if chosen.weight_bits == 4 else {}  # the rounding export_variant chose

    def as_quantized(name: str, w: np.ndarray) -> np.ndarray:
        if w.ndim != 2 or name == "embed":
            return w
        wanted = 8 if name == "lm_head" else chosen.bits_of(name)
        return dequantize(quantize(w, wanted, importance=importance.get(inputs_of(name))))

    expected = reference_logits(source, ids, as_quantized)
    steps = run_chunks(bundle, ids, [10])
    positions = [9, *range(10, len(ids))]
    agree = np.mean([got.argmax() == expected[p].argmax() for got, p in zip(steps, positions, strict=False)])
    scale = np.abs(expected).max()
    diffs = [np.abs(got - expected[p]).max() for got, p in zip(steps, positions, strict=False)]
    # accuracy_level 4 quantizes activations to int8 per block: close, not bit-equal.
    assert max(diffs) < 0.1 * scale
    assert agree >= 0.75  # random weights have thin top-1 margins; a layout bug gives ~0


def test_fp16_graph_stays_close_to_fp32(tiny_sources, tiny_tokenizer, tmp_path):
    source = read_source(tiny_sources(TinySpec(), "hf"))
    ids = tiny_tokenizer.encode(TEXT).ids[:30]
    fp32 = np.stack(run_chunks(export_variant(source, "fp32", tmp_path / "a"), ids, [20]))
    fp16 = np.stack(run_chunks(export_variant(source, "fp16", tmp_path / "b"), ids, [20]))
    assert np.abs(fp32 - fp16).max() < 0.05 * np.abs(fp32).max()


def test_quantize_round_trip_beats_plain_rounding():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((48, 100)).astype(np.float32)  # K not a multiple of 32
    for bits in (4, 8):
        q = quantize(w, bits)
        back = dequantize(q)
        levels = (1 << bits) - 1
        blocks = np.pad(w, ((0, 0), (0, 28))).reshape(48, -1, 32)
        low, high = np.minimum(blocks.min(-1), 0), np.maximum(blocks.max(-1), 0)
        scale = (high - low) / levels
        zero = np.rint(-low / scale)
        plain = ((np.clip(np.rint(blocks / scale[..., None]) + zero[..., None], 0, levels) - zero[..., None])
                 * scale[..., None]).reshape(48, -1)[:, :100]
        assert back.shape == w.shape
        assert np.square(back - w).sum() <= np.square(plain - w).sum()


def test_8_bit_quantization_carries_q8_0_blocks_over_exactly():
    rng = np.random.default_rng(1)
    d = rng.random((64, 4, 1)).astype(np.float32) * 0.02  # GGUF Q8_0: w = d * q, q in -127..127, d = amax / 127
    codes = rng.integers(-127, 128, (64, 4, 32))
    codes[:, :, 0] = 127
    w = (d * codes).reshape(64, 128).astype(np.float32)
    assert np.abs(dequantize(quantize(w, 8)) - w).max() < 1e-6



@pytest.mark.parametrize("tie", [True, False], ids=["tied", "untied"])
def test_int4_head_scores_its_shortlist_with_the_8_bit_rows(tie, tiny_sources, tiny_tokenizer, tmp_path, monkeypatch):
    """The int4 variant's head is 4-bit, but its top ``head_shortlist`` logits are recomputed from
    8-bit rows: those must equal an 8-bit head's and the rest a 4-bit head's. Exported with float
    activations (accuracy level 0) so the graph matches the reference closely enough to tell."""
    monkeypatch.setitem(VARIANT_SPECS, "int4", replace(VARIANT_SPECS["int4"], accuracy_level=0))
    source = read_source(tiny_sources(TinySpec(architecture="qwen2", tie=tie, seed=5), "hf"))
    bundle = export_variant(source, "int4", tmp_path / "int4")
    shortlist = VARIANT_SPECS["int4"].head_shortlist
    ids = tiny_tokenizer.encode(TEXT).ids
    weights = {n: source.load_tensor(n) for n in source.required_tensors()}
    head = weights["embed"] if tie else weights.pop("lm_head")
    importance = input_importance(source)  # 4-bit rounding is weighed by it, as export_variant does
    bits = VARIANT_SPECS["int4"].bits_of
    body = {n: dequantize(quantize(w, bits(n), importance=importance[inputs_of(n)]))
            if w.ndim == 2 and n != "embed" else w for n, w in weights.items()}
    body["embed"] = dequantize(quantize(body["embed"], 8))  # the graph's gather table is 8-bit
    untied = replace(source.config, tie_word_embeddings=False)
    head_in = importance[inputs_of("lm_head")]
    rows = quantize(head, 8) if tie else quantize(head, 8, importance=head_in)  # a tied head's are the table's
    eight = reference.forward(untied, {**body, "lm_head": dequantize(rows)}, ids)
    four = reference.forward(untied, {**body, "lm_head": dequantize(quantize(head, 4, importance=head_in))}, ids)

    steps = run_chunks(bundle, ids, [10])
    for got, p in zip(steps, [9, *range(10, len(ids))], strict=True):
        short = np.argsort(four[p])[-shortlist:]
        rest = np.setdiff1d(np.arange(got.size), short)
        assert np.abs(eight[p] - four[p])[short].max() > 1e-2  # the two heads differ where it is checked
        assert np.abs(got[short] - eight[p][short]).max() < 1e-3
        assert np.abs(got[rest] - four[p][rest]).max() < 1e-3


def test_int4_keeps_the_attention_projections_in_8_bits(tiny_sources, tmp_path):
    """int4's attention projections are 8-bit (they carry about 40% of a 4-bit body's divergence
    from its source for an eighth of its weights); the MLP stays 4-bit."""
    source = read_source(tiny_sources(TinySpec(architecture="qwen2"), "hf"))
    bundle = export_variant(source, "int4", tmp_path / "int4")
    graph = onnx.load(str(bundle / "model.onnx"), load_external_data=False)
    bits = {n.name: next(a.i for a in n.attribute if a.name == "bits")
            for n in graph.graph.node if n.op_type == "MatMulNBits"}
    assert {v for k, v in bits.items() if "attn" in k} == {8}
    assert {v for k, v in bits.items() if "mlp" in k} == {4}
