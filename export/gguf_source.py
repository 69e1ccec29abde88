"""Read a GGUF file into a :class:`ModelSource`.

Validated on open: magic, version, the architecture's keys, every tensor the
architecture needs, and that the file is as long as its tensor table says. Tensors are
dequantized lazily, one at a time, so peak memory stays near one float32 copy of the model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ghostwright.errors import ModelSourceError, UnsupportedModelError
from ghostwright.export.config import ModelConfig
from ghostwright.export.source import FimTokens, ModelSource, SpecialTokens, sha256_of, tokens_by_text
from ghostwright.export.tokenizer_build import CONTROL_TOKEN, USER_DEFINED_TOKEN, build_bpe_tokenizer

GGUF_MAGIC = b"GGUF"
# GGUF architecture name -> (our architecture, rotate adjacent pairs?). llama.cpp permutes
# Llama's Q/K rows for its "normal" RoPE (adjacent pairs); Qwen2 uses NEOX (halves).
_ARCHITECTURES = {"llama": ("llama", True), "qwen2": ("qwen2", False)}

_GLOBAL_TENSORS = {"token_embd": "embed", "output_norm": "norm", "output": "lm_head"}
_LAYER_TENSORS = {
    "attn_norm": "attn_norm",
    "attn_q": "q",
    "attn_k": "k",
    "attn_v": "v",
    "attn_output": "o",
    "ffn_norm": "mlp_norm",
    "ffn_gate": "gate",
    "ffn_up": "up",
    "ffn_down": "down",
}
_END_OF_TURN_NAMES = ("<|endoftext|>", "<|im_end|>", "<|eot_id|>", "<|end|>", "<|end_of_text|>")


def canonical_name(gguf_name: str) -> str | None:
    """``blk.3.attn_q.bias`` -> ``layers.3.q_bias``; None for tensors we do not use."""
    base, _, kind = gguf_name.rpartition(".")
    if kind not in ("weight", "bias"):
        return None
    if base in _GLOBAL_TENSORS and kind == "weight":
        return _GLOBAL_TENSORS[base]
    parts = base.split(".")
    if len(parts) == 3 and parts[0] == "blk" and parts[2] in _LAYER_TENSORS:
        name = f"layers.{parts[1]}.{_LAYER_TENSORS[parts[2]]}"
        return name if kind == "weight" else name + "_bias"
    return None


def _open_reader(path: Path) -> Any:
    from gguf import GGUFReader

    if not path.is_file():
        raise ModelSourceError(f"{path}: no such file")
    with path.open("rb") as f:
        magic = f.read(4)
    if magic != GGUF_MAGIC:
        raise ModelSourceError(f"{path}: not a GGUF file (magic {magic!r}, expected {GGUF_MAGIC!r})")
    try:
        reader = GGUFReader(path, "r")
    except Exception as exc:  # the reader raises ValueError, IndexError, OSError...
        raise ModelSourceError(f"{path}: corrupt or truncated GGUF ({exc})") from exc
    size = path.stat().st_size
    for tensor in reader.tensors:
        end = int(tensor.data_offset) + int(tensor.n_bytes)
        if end > size:
            raise ModelSourceError(
                f"{path}: truncated: tensor {tensor.name} ends at byte {end} but the file has {size}"
            )
    return reader


def _field(reader: Any, key: str, default: Any = None, *, path: Path) -> Any:
    field = reader.fields.get(key)
    if field is None:
        if default is None:
            raise ModelSourceError(f"{path}: missing metadata key {key}")
        return default
    return field.contents()


def read_gguf(path: Path) -> ModelSource:
    path = Path(path)
    reader = _open_reader(path)
    gguf_arch = _field(reader, "general.architecture", path=path)
    if gguf_arch not in _ARCHITECTURES:
        raise UnsupportedModelError(
            f"{path}: unsupported architecture {gguf_arch!r} (supported: {', '.join(_ARCHITECTURES)})"
        )
    arch, interleaved = _ARCHITECTURES[gguf_arch]

    tensors = {}
    for tensor in reader.tensors:
        name = canonical_name(tensor.name)
        if name is not None:
            tensors[name] = tensor
    if "embed" not in tensors:
        raise ModelSourceError(f"{path}: missing tensor token_embd.weight")

    def key(suffix: str, default: Any = None) -> Any:
        return _field(reader, f"{gguf_arch}.{suffix}", default, path=path)

    hidden = int(key("embedding_length"))
    heads = int(key("attention.head_count"))
    window = reader.fields.get(f"{gguf_arch}.attention.sliding_window")
    config = ModelConfig(
        architecture=arch,
        vocab_size=int(tensors["embed"].shape[1]),
        hidden_size=hidden,
        intermediate_size=int(key("feed_forward_length")),
        num_layers=int(key("block_count")),
        num_heads=heads,
        num_kv_heads=int(key("attention.head_count_kv", heads)),
        head_dim=int(key("attention.key_length", hidden // heads)),
        rope_theta=float(key("rope.freq_base", 10000.0)),
        rms_norm_eps=float(key("attention.layer_norm_rms_epsilon")),
        max_position_embeddings=int(key("context_length", 2048)),
        rope_interleaved=interleaved,
        attention_bias="layers.0.q_bias" in tensors,
        sliding_window=int(window.contents()) if window is not None else None,
        tie_word_embeddings="lm_head" not in tensors,
    )
    if reader.fields.get(f"{gguf_arch}.rope.scaling.type") is not None:
        scaling = _field(reader, f"{gguf_arch}.rope.scaling.type", path=path)
        if scaling not in ("none", ""):
            raise UnsupportedModelError(f"{path}: RoPE scaling {scaling!r} is not supported yet")

    def load_tensor(name: str) -> np.ndarray:
        from gguf.quants import dequantize

        tensor = tensors.get(name)
        if tensor is None:
            raise ModelSourceError(f"{path}: missing tensor for {name}")
        try:
            data = dequantize(tensor.data, tensor.tensor_type)
        except NotImplementedError as exc:
            raise UnsupportedModelError(
                f"{path}: tensor {tensor.name} has type {tensor.tensor_type.name}, "
                "which gguf cannot dequantize"
            ) from exc
        shape = tuple(int(d) for d in reversed(tensor.shape))
        return np.ascontiguousarray(data.reshape(shape), dtype=np.float32)

    source = ModelSource(
        config=config,
        load_tensor=load_tensor,
        tokenizer_json="",
        special_tokens=SpecialTokens(bos=None, eos=(), pad=None),
        add_bos=bool(_field(reader, "tokenizer.ggml.add_bos_token", False, path=path)),
        chat_template=_field(reader, "tokenizer.chat_template", "", path=path) or None,
        provenance={"kind": "gguf", "path": str(path.resolve()), "sha256": sha256_of(path)},
        name=path.stem,
    )
    missing = [n for n in source.required_tensors() if n not in tensors]
    if missing:
        raise ModelSourceError(f"{path}: missing tensors for {', '.join(missing[:5])}")
    _read_tokenizer(reader, source, path)
    return source


def _read_tokenizer(reader: Any, source: ModelSource, path: Path) -> None:
    model = _field(reader, "tokenizer.ggml.model", path=path)
    if model != "gpt2":
        raise UnsupportedModelError(
            f"{path}: GGUF tokenizer model {model!r} is not supported (byte-level BPE 'gpt2' is); "
            "export this model from its Hugging Face folder instead"
        )
    tokens = list(_field(reader, "tokenizer.ggml.tokens", path=path))
    merges = list(_field(reader, "tokenizer.ggml.merges", path=path))
    types = [int(t) for t in _field(reader, "tokenizer.ggml.token_type", path=path)]
    pre = _field(reader, "tokenizer.ggml.pre", "default", path=path)
    if len(types) != len(tokens):
        raise ModelSourceError(f"{path}: {len(tokens)} tokens but {len(types)} token types")
    tokenizer = build_bpe_tokenizer(tokens, merges, types, pre)
    source.tokenizer_json = tokenizer.to_str()

    def token_id(key: str) -> int | None:
        field = reader.fields.get(key)
        return int(field.contents()) if field is not None else None

    eos = [token_id("tokenizer.ggml.eos_token_id"), token_id("tokenizer.ggml.eot_token_id")]
    eos += [i for i, t in enumerate(tokens) if t in _END_OF_TURN_NAMES and types[i] == CONTROL_TOKEN]
    def either(new_key: str, old_key: str) -> int | None:
        found = token_id(f"tokenizer.ggml.{new_key}_token_id")
        return found if found is not None else token_id(f"tokenizer.ggml.{old_key}_token_id")

    special = {t: i for i, t in enumerate(tokens) if types[i] in (CONTROL_TOKEN, USER_DEFINED_TOKEN)}
    fim, repo, fim_pad = tokens_by_text(special.get)
    keyed = [either("fim_pre", "prefix"), either("fim_suf", "suffix"), either("fim_mid", "middle")]
    if all(i is not None for i in keyed):  # the GGUF's own keys win over spellings
        fim = FimTokens(*keyed)  # type: ignore[arg-type]
    source.special_tokens = SpecialTokens(
        bos=token_id("tokenizer.ggml.bos_token_id"),
        eos=tuple(sorted({i for i in eos if i is not None})),
        pad=token_id("tokenizer.ggml.padding_token_id"),
        fim=fim,
        repo=repo if fim is not None else None,
        fim_pad=fim_pad if fim is not None else None,
    )
