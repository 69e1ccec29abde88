"""The prefill graph of quantized variants: int8 x int8 products for prompts, the same KV
buffers and weights file as the decode graph, and logits that stay close to both the decode
graph's and the float reference's."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from ghostwright.export import contract, reference
from ghostwright.export.bundle import export_variant, read_source
from ghostwright.export.channel_quantize import quantize_channels
from ghostwright.inference.decoder import Decoder
from ghostwright.inference.manifest import read_manifest
from support.tiny_model import TinySpec

TEXT = ("def fibonacci(n):\n    if n < 2:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)\n"
        "class Stack:\n    def push(self, item):\n        self.items.append(item)\n")
PROMPT = 40  # tokens prefilled in one step; the rest are decoded one at a time


def external_offsets(graph: onnx.ModelProto) -> dict[str, tuple[str, str]]:
    out = {}
    for t in graph.graph.initializer:
        if t.data_location == onnx.TensorProto.EXTERNAL:
            entry = {e.key: e.value for e in t.external_data}
            out[t.name] = (entry["offset"], entry["length"])
    return out


def steps(decoder: Decoder, ids: list[int]) -> np.ndarray:
    cache = decoder.allocate_cache(len(ids) + 1)
    out = [decoder.forward(cache, ids[:PROMPT], 0)]
    out += [decoder.forward(cache, [token], pos) for pos, token in enumerate(ids[PROMPT:], PROMPT)]
    return np.stack(out)


def test_channel_quantization_round_trips_within_half_a_step():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((48, 100)).astype(np.float32)
    w[3] = 0  # a zero row keeps a usable scale
    codes, scales = quantize_channels(w)
    assert codes.shape == (100, 48) and codes.dtype == np.int8 and scales.shape == (48,)
    back = (codes.astype(np.float32) * scales).T
    assert np.all(np.abs(back - w) <= scales[:, None] / 2 + 1e-7)
    assert np.abs(codes).max() == 127 and scales[3] == 1.0


@pytest.fixture(scope="module")
def qwen_source(tiny_sources):
    return read_source(tiny_sources(TinySpec(architecture="qwen2", tie=False, max_positions=256), "hf"))


@pytest.fixture(scope="module")
def int4_qwen(qwen_source, tmp_path_factory):
    return qwen_source, export_variant(qwen_source, "int4", tmp_path_factory.mktemp("prefill") / "int4")


@pytest.fixture(scope="module")
def int8_qwen(qwen_source, tmp_path_factory):
    """int8's decode graph is all but exact, so what differs is the prefill graph's own rounding."""
    return qwen_source, export_variant(qwen_source, "int8", tmp_path_factory.mktemp("prefill") / "int8")


def test_the_prefill_graph_is_int8_products_over_the_same_weights_file(int4_qwen):
    source, bundle = int4_qwen
    manifest = read_manifest(bundle, verify_hashes=True)  # the prefill graph is listed and hashed
    prefill = manifest.raw["graph"]["prefill"]
    assert prefill["file"] == contract.PREFILL_MODEL_FILE and prefill["min_tokens"] > 1
    decode = onnx.load(str(bundle / contract.MODEL_FILE), load_external_data=False)
    graph = onnx.load(str(bundle / contract.PREFILL_MODEL_FILE), load_external_data=False)
    ops = [n.op_type for n in graph.graph.node]
    assert ops.count("DynamicQuantizeMatMul") == 5 * source.config.num_layers  # qkv, o, gate, up, down
    assert "Split" not in ops
    assert all("lm_head" in n.name for n in graph.graph.node if n.op_type == "MatMulNBits")
    assert [i.name for i in graph.graph.input] == [i.name for i in decode.graph.input]
    assert [o.name for o in graph.graph.output] == [o.name for o in decode.graph.output]
    shared = external_offsets(decode).keys() & external_offsets(graph).keys()
    assert {"model.embed_tokens.qweight", "lm_head.qweight", "lm_head.rows.qweight"} <= shared
    for name in shared:  # the very same bytes, written once
        assert external_offsets(decode)[name] == external_offsets(graph)[name]


def test_a_prompt_runs_on_the_prefill_graph_and_decoding_goes_on_from_its_cache(int8_qwen, tiny_tokenizer):
    source, bundle = int8_qwen
    ids = tiny_tokenizer.encode(TEXT).ids
    assert len(ids) > PROMPT + 10
    both = Decoder(read_manifest(bundle), "cpu")
    assert both.prefill_session is not None
    decode_only = Decoder(read_manifest(bundle), "cpu")
    decode_only.prefill_min_tokens = None
    got, alone = steps(both, ids), steps(decode_only, ids)
    assert np.abs(got[0] - alone[0]).max() > 1e-4  # another graph computed the prompt
    weights = {n: source.load_tensor(n) for n in source.required_tensors()}
    expected = reference.forward(source.config, weights, ids)[PROMPT - 1 :]
    scale = np.abs(expected).max()
    # Activations in int8 with one scale per step: close to the decode graph, not equal, and no
    # further from the float model than the decode graph's own rounding takes it (both ~10% here).
    assert np.abs(got - alone).max() < 0.1 * scale
    assert np.abs(got - expected).max() < 1.5 * np.abs(alone - expected).max()
    assert np.mean(got.argmax(-1) == alone.argmax(-1)) >= 0.9


def test_short_steps_and_multi_row_steps_stay_on_the_decode_graph(int4_qwen, tiny_tokenizer):
    _, bundle = int4_qwen
    ids = tiny_tokenizer.encode(TEXT).ids
    both = Decoder(read_manifest(bundle), "cpu")
    decode_only = Decoder(read_manifest(bundle), "cpu")
    decode_only.prefill_min_tokens = None
    short = both.prefill_min_tokens  # with the sink token run apart, one short of the minimum
    pair = (both, decode_only)
    a, b = (d.forward(d.allocate_cache(64), ids[:short], 0) for d in pair)
    assert np.array_equal(a, b)
    a, b = (d.forward(d.allocate_cache(64), ids[:PROMPT], 0, rows=4) for d in pair)
    assert np.array_equal(a, b)  # speculation's verify steps: the logits of several rows
    a, b = (d.forward(d.allocate_cache(64), ids[: short + 1], 0) for d in pair)
    assert not np.array_equal(a, b)  # one more token and the prompt goes to the prefill graph
