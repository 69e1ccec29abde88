"""Read a Hugging Face checkpoint folder (config.json, *.safetensors, tokenizer.json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from tokenizers import Tokenizer

from ghostwright.errors import ModelSourceError, UnsupportedModelError
from ghostwright.export.config import SUPPORTED_ARCHITECTURES, ModelConfig
from ghostwright.export.safetensors_file import SafetensorsFile
from ghostwright.export.source import ModelSource, SpecialTokens, sha256_of_files, tokens_by_text

_LAYER_NAMES = {
    "input_layernorm.weight": "attn_norm",
    "self_attn.q_proj.weight": "q",
    "self_attn.k_proj.weight": "k",
    "self_attn.v_proj.weight": "v",
    "self_attn.o_proj.weight": "o",
    "self_attn.q_proj.bias": "q_bias",
    "self_attn.k_proj.bias": "k_bias",
    "self_attn.v_proj.bias": "v_bias",
    "post_attention_layernorm.weight": "mlp_norm",
    "mlp.gate_proj.weight": "gate",
    "mlp.up_proj.weight": "up",
    "mlp.down_proj.weight": "down",
}
_GLOBAL_NAMES = {"model.embed_tokens.weight": "embed", "model.norm.weight": "norm", "lm_head.weight": "lm_head"}
# Token spellings of fill-in-the-middle markers across code models (StarCoder, Qwen, CodeLlama).


def canonical_name(hf_name: str) -> str | None:
    if hf_name in _GLOBAL_NAMES:
        return _GLOBAL_NAMES[hf_name]
    parts = hf_name.split(".", 3)
    if len(parts) == 4 and parts[:2] == ["model", "layers"] and parts[3] in _LAYER_NAMES:
        return f"layers.{parts[2]}.{_LAYER_NAMES[parts[3]]}"
    return None


def _read_json(path: Path, required: bool = True) -> dict[str, Any]:
    if not path.is_file():
        if required:
            raise ModelSourceError(f"{path}: missing")
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelSourceError(f"{path}: not valid JSON ({exc})") from exc


def _config(folder: Path, cfg: dict[str, Any]) -> ModelConfig:
    model_type = cfg.get("model_type")
    if model_type not in SUPPORTED_ARCHITECTURES:
        raise UnsupportedModelError(
            f"{folder / 'config.json'}: unsupported architecture {model_type!r} "
            f"(supported: {', '.join(SUPPORTED_ARCHITECTURES)})"
        )
    scaling = cfg.get("rope_scaling")
    if scaling and scaling.get("rope_type", scaling.get("type")) not in (None, "default"):
        raise UnsupportedModelError(f"{folder / 'config.json'}: RoPE scaling {scaling} is not supported yet")
    heads = int(cfg["num_attention_heads"])
    window = cfg.get("sliding_window")
    if model_type == "qwen2" and not cfg.get("use_sliding_window", False):
        window = None
    try:
        return ModelConfig(
            architecture=model_type,
            vocab_size=int(cfg["vocab_size"]),
            hidden_size=int(cfg["hidden_size"]),
            intermediate_size=int(cfg["intermediate_size"]),
            num_layers=int(cfg["num_hidden_layers"]),
            num_heads=heads,
            num_kv_heads=int(cfg.get("num_key_value_heads") or heads),
            head_dim=int(cfg.get("head_dim") or cfg["hidden_size"] // heads),
            rope_theta=float(cfg.get("rope_theta", 10000.0)),
            rms_norm_eps=float(cfg.get("rms_norm_eps", 1e-6)),
            max_position_embeddings=int(cfg.get("max_position_embeddings", 2048)),
            rope_interleaved=False,
            attention_bias=model_type == "qwen2" or bool(cfg.get("attention_bias", False)),
            sliding_window=int(window) if window else None,
            tie_word_embeddings=bool(cfg.get("tie_word_embeddings", False)),
        )
    except KeyError as exc:
        raise ModelSourceError(f"{folder / 'config.json'}: missing key {exc}") from exc


def read_hf_folder(folder: Path) -> ModelSource:
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelSourceError(f"{folder}: not a directory")
    cfg = _read_json(folder / "config.json")
    config = _config(folder, cfg)
    files = sorted(folder.glob("*.safetensors"))
    if not files:
        raise ModelSourceError(f"{folder}: no *.safetensors files")
    where: dict[str, tuple[SafetensorsFile, str]] = {}
    for file in files:
        st = SafetensorsFile(file)
        for name in st.names():
            canonical = canonical_name(name)
            if canonical is not None:
                where[canonical] = (st, name)

    if "embed" in where:
        st, original = where["embed"]
        rows = st.shape(original)[0]
        if rows != config.vocab_size:
            raise ModelSourceError(
                f"{folder / 'config.json'}: vocab_size is {config.vocab_size} but {original} has {rows} rows"
            )

    def load_tensor(name: str) -> np.ndarray:
        if name not in where:
            raise ModelSourceError(f"{folder}: missing tensor for {name}")
        st, original = where[name]
        return np.ascontiguousarray(st.load(original))

    tokenizer_path = folder / "tokenizer.json"
    if not tokenizer_path.is_file():
        raise ModelSourceError(f"{tokenizer_path}: missing")
    try:
        tokenizer = Tokenizer.from_file(str(tokenizer_path))
    except Exception as exc:
        raise ModelSourceError(f"{tokenizer_path}: unreadable tokenizer ({exc})") from exc
    tok_cfg = _read_json(folder / "tokenizer_config.json", required=False)
    gen_cfg = _read_json(folder / "generation_config.json", required=False)

    source = ModelSource(
        config=config,
        load_tensor=load_tensor,
        tokenizer_json=tokenizer.to_str(),
        special_tokens=_special_tokens(tokenizer, cfg, gen_cfg),
        add_bos=bool(tok_cfg.get("add_bos_token", config.architecture in ("llama", "mistral"))),
        chat_template=tok_cfg.get("chat_template") if isinstance(tok_cfg.get("chat_template"), str) else None,
        provenance={"kind": "hf", "path": str(folder.resolve()), "sha256": sha256_of_files(files)},
        name=folder.name,
        tokenizer_origin=str(tokenizer_path),
    )
    missing = [n for n in source.required_tensors() if n not in where]
    if missing:
        raise ModelSourceError(f"{folder}: missing tensors for {', '.join(missing[:5])}")
    return source


def _ids(value: Any) -> list[int]:
    if value is None:
        return []
    return [int(v) for v in value] if isinstance(value, list) else [int(value)]


def _special_tokens(tokenizer: Tokenizer, cfg: dict[str, Any], gen_cfg: dict[str, Any]) -> SpecialTokens:
    eos = set(_ids(cfg.get("eos_token_id")) + _ids(gen_cfg.get("eos_token_id")))
    bos = _ids(gen_cfg.get("bos_token_id", cfg.get("bos_token_id")))
    pad = _ids(cfg.get("pad_token_id"))
    def special_id(text: str) -> int | None:  # only tokens that are special in this vocabulary
        found = tokenizer.token_to_id(text)
        return found if found is not None and len(tokenizer.encode(text, add_special_tokens=False).ids) == 1 else None

    fim, repo, fim_pad = tokens_by_text(special_id)
    return SpecialTokens(bos=bos[0] if bos else None, eos=tuple(sorted(eos)), pad=pad[0] if pad else None, fim=fim,
                         repo=repo, fim_pad=fim_pad)
