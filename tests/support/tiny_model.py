"""Tiny random-weight Llama-family checkpoints, written the way real ones are.

The same weights are written as a Hugging Face folder (safetensors, rotate-half RoPE)
and as a GGUF file (Q/K rows permuted the way llama.cpp's converter does), so a test
can check that both sources export to the same model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

from ghostwright.export.safetensors_file import write_safetensors

CORPUS = [
    "def add(a, b):\n    return a + b\n",
    "def fibonacci(n):\n    if n < 2:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)\n",
    "class Stack:\n    def __init__(self):\n        self.items = []\n\n"
    "    def push(self, x):\n        self.items.append(x)\n",
    "import os\nimport sys\n\nfor i in range(10):\n    print(i, os.getcwd())\n",
    "function greet(name) {\n  return `Hello, ${name}!`;\n}\n",
    "héllo wörld — 你好 🙂 tabs\tand\nnewlines 12345\n",
]
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
# Qwen2.5-Coder's fill-in-the-middle and repository tokens, spelled as in its vocabulary.
FIM_SPECIALS = ["<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>"]


@dataclass
class TinySpec:
    architecture: str = "llama"  # llama | mistral | qwen2
    hidden: int = 64
    heads: int = 4
    kv_heads: int = 2
    layers: int = 2
    ffn: int = 96
    max_positions: int = 512
    sliding_window: int | None = None
    tie: bool = True
    seed: int = 0


def train_tokenizer(vocab_size: int = 400, specials: list[str] = SPECIALS) -> Tokenizer:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False)]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator(CORPUS * 20, trainer)
    return tok


def random_weights(spec: TinySpec, vocab: int) -> dict[str, np.ndarray]:
    """HF-named float32 weights."""
    rng = np.random.default_rng(spec.seed)
    hd = spec.hidden // spec.heads

    def mat(rows: int, cols: int) -> np.ndarray:
        return (rng.standard_normal((rows, cols)) / np.sqrt(cols)).astype(np.float32)

    w = {"model.embed_tokens.weight": mat(vocab, spec.hidden),
         "model.norm.weight": (1 + 0.1 * rng.standard_normal(spec.hidden)).astype(np.float32)}
    if not spec.tie:
        w["lm_head.weight"] = mat(vocab, spec.hidden)
    for i in range(spec.layers):
        p = f"model.layers.{i}."
        w[p + "input_layernorm.weight"] = (1 + 0.1 * rng.standard_normal(spec.hidden)).astype(np.float32)
        w[p + "post_attention_layernorm.weight"] = (1 + 0.1 * rng.standard_normal(spec.hidden)).astype(np.float32)
        w[p + "self_attn.q_proj.weight"] = mat(spec.heads * hd, spec.hidden)
        w[p + "self_attn.k_proj.weight"] = mat(spec.kv_heads * hd, spec.hidden)
        w[p + "self_attn.v_proj.weight"] = mat(spec.kv_heads * hd, spec.hidden)
        w[p + "self_attn.o_proj.weight"] = mat(spec.hidden, spec.heads * hd)
        if spec.architecture == "qwen2":
            for t, n in (("q", spec.heads), ("k", spec.kv_heads), ("v", spec.kv_heads)):
                w[p + f"self_attn.{t}_proj.bias"] = (0.5 * rng.standard_normal(n * hd)).astype(np.float32)
        w[p + "mlp.gate_proj.weight"] = mat(spec.ffn, spec.hidden)
        w[p + "mlp.up_proj.weight"] = mat(spec.ffn, spec.hidden)
        w[p + "mlp.down_proj.weight"] = mat(spec.hidden, spec.ffn)
    return w


def write_hf_folder(folder: Path, spec: TinySpec, tokenizer: Tokenizer | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = tokenizer or train_tokenizer()
    vocab = tokenizer.get_vocab_size()
    config = {
        "model_type": spec.architecture,
        "vocab_size": vocab,
        "hidden_size": spec.hidden,
        "intermediate_size": spec.ffn,
        "num_hidden_layers": spec.layers,
        "num_attention_heads": spec.heads,
        "num_key_value_heads": spec.kv_heads,
        "rope_theta": 10000.0,
        "rms_norm_eps": 1e-5,
        "max_position_embeddings": spec.max_positions,
        "tie_word_embeddings": spec.tie,
        "bos_token_id": 1,
        "eos_token_id": 2,
    }
    if spec.sliding_window:
        config["sliding_window"] = spec.sliding_window
        config["use_sliding_window"] = True
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "tokenizer_config.json").write_text(json.dumps({"add_bos_token": False}))
    tokenizer.save(str(folder / "tokenizer.json"))
    write_safetensors(folder / "model.safetensors", random_weights(spec, vocab))
    return folder


def llama_cpp_permute(w: np.ndarray, n_head: int) -> np.ndarray:
    """Reorder Q/K rows from rotate-half pairs (i, i+d/2) to adjacent pairs (2i, 2i+1)."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def write_gguf(path: Path, spec: TinySpec, tokenizer: Tokenizer | None = None, qtype: str = "F32") -> Path:
    """The same model as :func:`write_hf_folder`, as llama.cpp's converter would write it."""
    import gguf

    tokenizer = tokenizer or train_tokenizer()
    vocab = tokenizer.get_vocab_size()
    arch = "qwen2" if spec.architecture == "qwen2" else "llama"
    writer = gguf.GGUFWriter(str(path), arch)
    writer.add_block_count(spec.layers)
    writer.add_context_length(spec.max_positions)
    writer.add_embedding_length(spec.hidden)
    writer.add_feed_forward_length(spec.ffn)
    writer.add_head_count(spec.heads)
    writer.add_head_count_kv(spec.kv_heads)
    writer.add_rope_freq_base(10000.0)
    writer.add_layer_norm_rms_eps(1e-5)
    model = json.loads(tokenizer.to_str())["model"]
    tokens = [t for t, _ in sorted(model["vocab"].items(), key=lambda kv: kv[1])]
    merges = [m if isinstance(m, str) else " ".join(m) for m in model["merges"]]
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("smollm")
    writer.add_token_list(tokens)
    writer.add_token_merges(merges)
    special = {a.content for a in tokenizer.get_added_tokens_decoder().values() if a.special}
    writer.add_token_types([3 if t in special else 1 for t in tokens])  # no fim_* keys: found by spelling
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_add_bos_token(False)
    names = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
             "lm_head.weight": "output.weight"}
    layer_names = {"input_layernorm.weight": "attn_norm.weight", "post_attention_layernorm.weight": "ffn_norm.weight",
                   "self_attn.q_proj.weight": "attn_q.weight", "self_attn.k_proj.weight": "attn_k.weight",
                   "self_attn.v_proj.weight": "attn_v.weight", "self_attn.o_proj.weight": "attn_output.weight",
                   "self_attn.q_proj.bias": "attn_q.bias", "self_attn.k_proj.bias": "attn_k.bias",
                   "self_attn.v_proj.bias": "attn_v.bias", "mlp.gate_proj.weight": "ffn_gate.weight",
                   "mlp.up_proj.weight": "ffn_up.weight", "mlp.down_proj.weight": "ffn_down.weight"}
    for name, array in random_weights(spec, vocab).items():
        if name.startswith("model.layers."):
            _, _, i, rest = name.split(".", 3)
            if arch == "llama" and rest == "self_attn.q_proj.weight":
                array = llama_cpp_permute(array, spec.heads)
            elif arch == "llama" and rest == "self_attn.k_proj.weight":
                array = llama_cpp_permute(array, spec.kv_heads)
            gguf_name = f"blk.{i}.{layer_names[rest]}"
        else:
            gguf_name = names[name]
        quant = getattr(gguf.GGMLQuantizationType, qtype)
        if array.ndim == 2 and quant != gguf.GGMLQuantizationType.F32:
            writer.add_tensor(gguf_name, gguf.quants.quantize(array, quant), raw_dtype=quant)
        else:
            writer.add_tensor(gguf_name, array)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
