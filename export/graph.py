"""Build the ONNX decoder for one variant, in onnxruntime's fast-path ops.

The graph takes new tokens plus a preallocated KV buffer and returns the logits of the
last position and the same buffer written in place (GroupQueryAttention shares past and
present when both are bound to one OrtValue). One decoder block:

    residual ──► SkipSimplifiedLayerNorm ──► QKV MatMul ──► GroupQueryAttention ──► O MatMul ─┐
                                                             ▲ rotary, past/present KV        │
    residual ◄────────────────────── SkipSimplifiedLayerNorm ◄───────────────────────────────┘
                                      │ normed
                                      ▼
                        gate|up MatMul ──► Split ──► QuickGelu(gate, α=1) · up ──► down MatMul ──► next block

Node names are path-like (``/model/layers.3/attn/qkv_proj/MatMul``) so profiles read well.

The w8a8 variant's layer products are DynamicQuantizeMatMul instead (int8 activations, one
scale per step, x int8 weights, one scale per output channel): onnxruntime's u8 x s8 GEMM, which
runs on AMX or VNNI where the CPU has them, computes a prompt 3-4x faster than MatMulNBits, and a
decode step reads 8-bit weights about as fast as int4's. Gate and up are two products there, not
one and a Split: copying a prompt's 9,728-wide product apart cost 8% of it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import onnx
from onnx import TensorProto, helper

from ghostwright.export import contract
from ghostwright.export.channel_quantize import quantize_channels
from ghostwright.export.config import ModelConfig
from ghostwright.export.importance import HEAD_INPUT, inputs_of
from ghostwright.export.quantize import BLOCK_SIZE, QuantizedWeight, quantize
from ghostwright.export.reference import rope_angles
from ghostwright.export.weights_writer import WeightsWriter

OPSET = 21
MS_DOMAIN = "com.microsoft"
INT4_ACCURACY_LEVEL = 4  # MatMulNBits may quantize activations to int8 per block


@dataclass(frozen=True)
class VariantSpec:
    name: str
    dtype: np.dtype  # activations, KV cache and float weights
    weight_bits: int | None = None  # linear layers as MatMulNBits with these bits; None keeps them float
    head_bits: int | None = None  # the output head's bits (it decides every token: 8 keeps it faithful)
    head_shortlist: int | None = None  # a 4-bit head whose top N are rescored from 8-bit rows (see _shortlisted_head)
    attention_bits: int | None = None  # the q, k, v and o projections' bits, when not weight_bits
    accuracy_level: int = INT4_ACCURACY_LEVEL
    int8_activations: bool = False  # layers' products as DynamicQuantizeMatMul (see the module docstring)

    @property
    def quantized(self) -> bool:
        return self.weight_bits is not None

    def bits_of(self, tensor: str) -> int | None:
        """The bits of a layer's linear weight (``layers.3.q``); None keeps it float."""
        name = tensor.rpartition(".")[2]
        if self.attention_bits and name in ("q", "k", "v", "o"):
            return self.attention_bits
        return self.weight_bits


# int8 is the most faithful quantization: on SmolLM2 it agrees with fp32 on 95-97% of next tokens
# (int4: 77-79% before its attention went to 8 bits), on Qwen2.5-Coder-0.5B with llama.cpp on 98.0%
# (int4: 93.8%, 91.6% with 4-bit attention). int4 is half the
# memory and a faster decode (a step reads every weight once); w8a8 (below) prefills far faster.
# Both read a 4-bit output head and rescore its top 32 from 8-bit rows (``_shortlisted_head``):
# on Qwen2.5-Coder-0.5B a decode step 15-20% faster, 64 MB less resident, the same agreement.
VARIANT_SPECS = {
    "fp32": VariantSpec("fp32", np.dtype(np.float32)),
    "fp16": VariantSpec("fp16", np.dtype(np.float16)),
    "int8": VariantSpec("int8", np.dtype(np.float32), weight_bits=8, head_bits=8, head_shortlist=32),
    # Attention projections in 8 bits: an eighth of Qwen2.5-Coder-0.5B's body, but 4-bit they carry
    # 42% of its divergence from the GGUF (bench/README.md, "Where 4 bits cost most").
    "int4": VariantSpec("int4", np.dtype(np.float32), weight_bits=4, head_bits=8, head_shortlist=32,
                        attention_bits=8),
    # The default profile's full tier on CPU. On Qwen2.5-Coder-0.5B, an AMX Xeon: prompts of 512 and
    # 1,024 tokens 5.6-5.9x llama.cpp's speed (int4: 1.4-1.5x), decode ~6% slower than int4's (twice
    # the weight bytes a step), a lower peak RSS, and closer to llama.cpp (96.8% of next tokens, int4 93.9%).
    "w8a8": VariantSpec("w8a8", np.dtype(np.float32), weight_bits=8, head_bits=8, head_shortlist=32,
                        int8_activations=True),
}


class DecoderGraphBuilder:
    def __init__(self, config: ModelConfig, variant: VariantSpec, weights: WeightsWriter,
                 load_tensor: Callable[[str], np.ndarray],
                 progress: Callable[[int, int], None] | None = None,
                 importance: Mapping[str, np.ndarray] | None = None) -> None:
        self.config = config
        self.variant = variant
        self.elem_type = helper.np_dtype_to_tensor_dtype(variant.dtype)
        self.writer = weights
        self.load = load_tensor
        self.progress = progress  # (layers done, layers): an export of a large model takes a while
        # Per linear layer's input, how much each feature matters (export/importance.py): the
        # quantizer puts its rounding error where it costs least. None weighs all alike.
        self.importance = importance or {}
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[TensorProto] = []
        # The embedding's 8-bit block table (its initializers), when the head shares it.
        self._tied_table: tuple[str, str, str] | None = None

    # -- small helpers -------------------------------------------------------------
    def _node(self, op: str, inputs: list[str], name: str, n_out: int = 1, domain: str = "",
              outputs: list[str] | None = None, **attrs: object) -> list[str]:
        outs = outputs or [f"{name}/output_{i}" for i in range(n_out)]
        self.nodes.append(helper.make_node(op, inputs, outs, name=name, domain=domain or None, **attrs))
        return outs

    def _init(self, name: str, array: np.ndarray) -> str:
        self.initializers.append(self.writer.tensor(name, array))
        return name

    def _float(self, array: np.ndarray) -> np.ndarray:
        return array.astype(self.variant.dtype)

    def _linear(self, path: str, x: str, weight: np.ndarray, bias: np.ndarray | None = None,
                bits: int | None = None, tensor: str = "") -> str:
        """y = x @ weight.T (+ bias); weight is (out_features, in_features). ``tensor``, its canonical
        name (``layers.3.q``, ``lm_head``), picks the variant's bits for it and the importance of
        what it multiplies, if that was measured; ``bits`` overrides."""
        n, k = weight.shape
        if self.variant.int8_activations and tensor.startswith("layers."):
            codes, scales = quantize_channels(weight)
            inputs = [x, self._init(f"{path}.int8_weight", codes), self._init(f"{path}.int8_scales", scales), ""]
            if bias is not None:
                inputs.append(self._init(f"{path}.bias", bias.astype(np.float32)))
            return self._node("DynamicQuantizeMatMul", inputs, f"{path}/DynamicQuantizeMatMul", domain=MS_DOMAIN)[0]
        bits = bits or (self.variant.bits_of(tensor) if tensor else self.variant.weight_bits)
        if bits is not None:
            q = quantize(weight, bits, importance=self.importance.get(inputs_of(tensor)) if tensor else None)
            inputs = [
                x,
                self._init(f"{path}.qweight", q.packed),
                self._init(f"{path}.scales", q.scales),
                self._init(f"{path}.zero_points", q.zero_points),
            ]
            if bias is not None:
                inputs += ["", self._init(f"{path}.bias", bias.astype(np.float32))]
            return self._node("MatMulNBits", inputs, f"{path}/MatMulNBits", domain=MS_DOMAIN,
                              K=k, N=n, bits=bits, block_size=BLOCK_SIZE,
                              accuracy_level=self.variant.accuracy_level)[0]
        out = self._node("MatMul", [x, self._init(f"{path}.weight", self._float(weight.T))], f"{path}/MatMul")[0]
        if bias is not None:
            out = self._node("Add", [out, self._init(f"{path}.bias", self._float(bias))], f"{path}/Add")[0]
        return out

    def _embedding(self, embed: np.ndarray) -> str:
        """The token embedding gather. Quantized variants keep the table as 8-bit blocks (a quarter
        of float32: 136 MB instead of 545 MB for Qwen2.5's 151,936 x 896) and dequantize only the
        rows a step gathers; a tied output head reads the very same blocks through MatMulNBits."""
        c = self.config
        if not self.variant.quantized or embed.shape[1] % BLOCK_SIZE:
            name = self._init("model.embed_tokens.weight", self._float(embed))
            return self._node("Gather", [name, contract.INPUT_IDS], "/model/embed_tokens/Gather")[0]
        q = quantize(embed, 8)
        table = self._block_table("model.embed_tokens", q)
        self._tied_table = table if c.tie_word_embeddings else None
        return self._gather_rows(table, contract.INPUT_IDS, 2, "/model/embed_tokens")

    def _block_table(self, prefix: str, q: QuantizedWeight) -> tuple[str, str, str]:
        """An 8-bit table's codes, scales and zero points as initializers."""
        return (self._init(f"{prefix}.qweight", q.packed), self._init(f"{prefix}.scales", q.scales),
                self._init(f"{prefix}.zero_points", q.zero_points))

    def _gather_rows(self, table: tuple[str, str, str], ids: str, id_axes: int, p: str) -> str:
        """Rows ``ids`` (of rank ``id_axes``) of an 8-bit block table, dequantized: shape ids.shape + (hidden,).
        Only the gathered rows are read, so a table used this way alone stays memory-mapped."""
        codes, scales, zeros = (self._node("Gather", [name, ids], f"{p}/{part}/Gather")[0]
                                for name, part in zip(table, ("codes", "scales", "zero_points"), strict=True))
        # codes (*ids, blocks, 32) uint8; scales and zero points (*ids, blocks)
        float_type = self.elem_type
        codes = self._node("Cast", [codes], f"{p}/codes/Cast", to=float_type)[0]
        zeros = self._node("Cast", [zeros], f"{p}/zero_points/Cast", to=float_type)[0]
        last = self._init(f"{p}/last_axis", np.array([-1], np.int64))
        zeros = self._node("Unsqueeze", [zeros, last], f"{p}/zero_points/Unsqueeze")[0]
        scales = self._node("Cast", [scales], f"{p}/scales/Cast", to=float_type)[0]
        scales = self._node("Unsqueeze", [scales, last], f"{p}/scales/Unsqueeze")[0]
        centred = self._node("Sub", [codes, zeros], f"{p}/Sub")[0]
        rows = self._node("Mul", [centred, scales], f"{p}/Mul")[0]
        # (blocks, 32) merge into hidden; Reshape's 0 keeps each of the ids' axes as it is.
        shape = self._init(f"{p}/shape", np.array([0] * id_axes + [self.config.hidden_size], np.int64))
        return self._node("Reshape", [rows, shape], f"{p}/Reshape")[0]

    def _tied_head_logits(self, x: str) -> str | None:
        """Logits from the embedding's own 8-bit blocks, when the head is tied and they exist."""
        if self._tied_table is None or self.variant.head_bits != 8:
            return None
        c = self.config
        inputs = [x, *self._tied_table]
        return self._node("MatMulNBits", inputs, "lm_head/MatMulNBits", domain=MS_DOMAIN, K=c.hidden_size,
                          N=c.vocab_size, bits=8, block_size=BLOCK_SIZE,
                          accuracy_level=self.variant.accuracy_level)[0]

    def _head(self, last: str, embed: np.ndarray) -> str:
        shortlist = bool(self.variant.head_shortlist) and self.config.hidden_size % BLOCK_SIZE == 0
        if not shortlist and (logits := self._tied_head_logits(last)) is not None:
            return logits
        head = embed if self.config.tie_word_embeddings else self.load("lm_head")
        if shortlist:
            return self._shortlisted_head(last, head)
        return self._linear("lm_head", last, head, bits=self.variant.head_bits, tensor="lm_head")

    def _shortlisted_head(self, last: str, head: np.ndarray) -> str:
        """Logits from a 4-bit head, with its ``head_shortlist`` highest recomputed from 8-bit rows.

        The head is the largest weight a decode step reads (Qwen2.5's 151,936 x 896: 27% of the
        step in 8 bits). In 4 bits it reads half as much, but alone it moves the argmax often
        enough to cost agreement (91.4 -> 89.3% of next tokens against llama.cpp). The token that
        wins is almost always among the 4-bit head's top few, so the shortlist is scored again
        from the 8-bit rows, gathered: every logit that can decide a greedy token is the 8-bit
        head's, and the 8-bit table is only gathered, so it stays memory-mapped instead of being
        prepacked (MatMulNBits prepacks the 4-bit copy, half the size).

            last ─ MatMulNBits(4 bit) ─ rough ─ TopK(k) ─ indices ─ Gather(8-bit rows) ─┐
              └──────────────────────────────────────────────── Mul · ReduceSum ◄───────┘
            rough ── ScatterElements(indices, exact) ── logits
        """
        p = "/lm_head"
        rough = self._linear("lm_head", last, head, bits=4, tensor="lm_head")  # (B, n, vocab)
        k = self._init(f"{p}/shortlist/k", np.array([self.variant.head_shortlist], np.int64))
        _, indices = self._node("TopK", [rough, k], f"{p}/shortlist/TopK", n_out=2, axis=-1, largest=1, sorted=0)
        # 8-bit rows: a tied head's are the embedding's own blocks.
        table = self._tied_table or self._block_table(
            "lm_head.rows", quantize(head, 8, importance=self.importance.get(HEAD_INPUT)))
        rows = self._gather_rows(table, indices, 3, f"{p}/rows")  # (B, n, k, hidden)
        hidden = self._node("Unsqueeze", [last, self._init(f"{p}/shortlist/axis", np.array([2], np.int64))],
                            f"{p}/shortlist/Unsqueeze")[0]  # (B, n, 1, hidden)
        products = self._node("Mul", [rows, hidden], f"{p}/shortlist/Mul")[0]
        exact = self._node("ReduceSum", [products, self._init(f"{p}/shortlist/hidden_axis", np.array([-1], np.int64))],
                           f"{p}/shortlist/ReduceSum", keepdims=0)[0]  # (B, n, k)
        return self._node("ScatterElements", [rough, indices, exact], f"{p}/shortlist/ScatterElements", axis=-1)[0]

    def _skip_norm(self, path: str, x: str, residual: str, weight: str) -> tuple[str, str]:
        """(normed, x + residual) in one SkipSimplifiedLayerNormalization."""
        normed, _, _, summed = self._node(
            "SkipSimplifiedLayerNormalization", [x, residual, weight], f"{path}/SkipLayerNorm",
            n_out=4, domain=MS_DOMAIN, epsilon=self.config.rms_norm_eps)
        return normed, summed

    # -- the model -------------------------------------------------------------------
    def build(self) -> onnx.ModelProto:
        c = self.config
        embed = self.load("embed")
        x = self._embedding(embed)
        cos, sin = rope_angles(c, np.arange(c.max_position_embeddings))
        cos_name = self._init("model.rotary.cos_cache", self._float(cos))
        sin_name = self._init("model.rotary.sin_cache", self._float(sin))

        residual: str | None = None
        mlp_out: str | None = None
        for i in range(c.num_layers):
            p = f"/model/layers.{i}"
            norm_w = self._init(f"model.layers.{i}.input_layernorm.weight",
                                self._float(self.load(f"layers.{i}.attn_norm")))
            if residual is None:  # first block: nothing to add yet
                h = self._node("SimplifiedLayerNormalization", [x, norm_w], f"{p}/input_layernorm/LayerNorm",
                               epsilon=c.rms_norm_eps, axis=-1, stash_type=1)[0]
                residual = x
            else:
                h, residual = self._skip_norm(f"{p}/input_layernorm", mlp_out, residual, norm_w)  # type: ignore[arg-type]
            attn = self._attention(i, h)
            post_w = self._init(f"model.layers.{i}.post_attention_layernorm.weight",
                                self._float(self.load(f"layers.{i}.mlp_norm")))
            h, residual = self._skip_norm(f"{p}/post_attention_layernorm", attn, residual, post_w)
            mlp_out = self._mlp(i, h)
            if self.progress is not None:
                self.progress(i + 1, c.num_layers)

        final_w = self._init("model.norm.weight", self._float(self.load("norm")))
        normed, _ = self._skip_norm("/model/norm", mlp_out, residual, final_w)  # type: ignore[arg-type]
        # Only the last position's logits leave the graph: prefill never pays for the rest.
        last = self._node("Slice", [normed, self._init("/model/last/starts", np.array([-1], np.int64)),
                                    self._init("/model/last/ends", np.array([np.iinfo(np.int64).max], np.int64)),
                                    self._init("/model/last/axes", np.array([1], np.int64))], "/model/last/Slice")[0]
        logits = self._head(last, embed)
        if self.variant.dtype != np.float32:
            logits = self._node("Cast", [logits], "/lm_head/Cast", to=TensorProto.FLOAT)[0]
        self._node("Identity", [logits], "/logits/Identity", outputs=[contract.LOGITS])
        return self._model(cos_name, sin_name)

    def _attention(self, i: int, h: str) -> str:
        c = self.config
        p = f"/model/layers.{i}/attn"
        w = [self.load(f"layers.{i}.{t}") for t in ("q", "k", "v")]
        bias = None
        if c.attention_bias:
            bias = np.concatenate([self.load(f"layers.{i}.{t}_bias") for t in ("q", "k", "v")])
        qkv = self._linear(f"model.layers.{i}.attn.qkv_proj", h, np.concatenate(w, axis=0), bias,
                           tensor=f"layers.{i}.q")
        attrs: dict[str, object] = dict(num_heads=c.num_heads, kv_num_heads=c.num_kv_heads, do_rotary=1,
                                        rotary_interleaved=int(c.rope_interleaved))
        if c.sliding_window:
            attrs["local_window_size"] = c.sliding_window  # ORT counts the query itself, like HF
        out, _, _ = self._node(
            "GroupQueryAttention",
            [qkv, "", "", contract.past_key(i), contract.past_value(i), contract.SEQLENS_K,
             contract.TOTAL_SEQUENCE_LENGTH, "model.rotary.cos_cache", "model.rotary.sin_cache"],
            f"{p}/GroupQueryAttention", domain=MS_DOMAIN,
            outputs=[f"{p}/GroupQueryAttention/output_0", contract.present_key(i), contract.present_value(i)],
            **attrs)
        return self._linear(f"model.layers.{i}.attn.o_proj", out, self.load(f"layers.{i}.o"),
                            tensor=f"layers.{i}.o")

    def _mlp(self, i: int, h: str) -> str:
        p = f"model.layers.{i}.mlp"
        if self.variant.int8_activations:
            gate = self._linear(f"{p}.gate_proj", h, self.load(f"layers.{i}.gate"), tensor=f"layers.{i}.gate")
            up = self._linear(f"{p}.up_proj", h, self.load(f"layers.{i}.up"), tensor=f"layers.{i}.up")
        else:
            gate_up = np.concatenate([self.load(f"layers.{i}.gate"), self.load(f"layers.{i}.up")], axis=0)
            gate_up = self._linear(f"{p}.gate_up_proj", h, gate_up, tensor=f"layers.{i}.gate")
            gate, up = self._node("Split", [gate_up], f"/{p}/Split", n_out=2, axis=-1, num_outputs=2)
        act = self._node("QuickGelu", [gate], f"/{p}/act/QuickGelu", domain=MS_DOMAIN, alpha=1.0)[0]  # SiLU
        prod = self._node("Mul", [act, up], f"/{p}/Mul")[0]
        return self._linear(f"{p}.down_proj", prod, self.load(f"layers.{i}.down"), tensor=f"layers.{i}.down")

    def _model(self, cos_name: str, sin_name: str) -> onnx.ModelProto:
        c = self.config
        kv_shape = ["batch", c.num_kv_heads, "cache_length", c.head_dim]
        inputs = [
            helper.make_tensor_value_info(contract.INPUT_IDS, TensorProto.INT64, ["batch", "sequence"]),
            helper.make_tensor_value_info(contract.SEQLENS_K, TensorProto.INT32, ["batch"]),
            helper.make_tensor_value_info(contract.TOTAL_SEQUENCE_LENGTH, TensorProto.INT32, []),
        ]
        outputs = [helper.make_tensor_value_info(contract.LOGITS, TensorProto.FLOAT, ["batch", 1, c.vocab_size])]
        for i in range(c.num_layers):
            for name in (contract.past_key(i), contract.past_value(i)):
                inputs.append(helper.make_tensor_value_info(name, self.elem_type, kv_shape))
            for name in (contract.present_key(i), contract.present_value(i)):
                outputs.append(helper.make_tensor_value_info(name, self.elem_type, kv_shape))
        graph = helper.make_graph(self.nodes, "ghostwright_decoder", inputs, outputs, self.initializers)
        model = helper.make_model(
            graph,
            opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid(MS_DOMAIN, 1)],
            producer_name="ghostwright",
        )
        model.ir_version = 10
        return model
