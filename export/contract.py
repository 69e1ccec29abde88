"""The export contract: every name that export writes and inference reads.

Export writes a bundle with these file names, graph input/output names and manifest
keys; inference validates a bundle against the same constants. Change a name here and
bump ``FORMAT_VERSION`` so old bundles are refused with a clear message.
"""

from __future__ import annotations

FORMAT = "ghostwright-bundle"
FORMAT_VERSION = 1
# Bumped whenever export would write a different graph or different weights for the same
# source (a new fusion, another quantizer): cached bundles of an older revision are re-exported.
EXPORT_REVISION = 11

# Files inside a bundle directory.
MANIFEST_FILE = "manifest.json"
MODEL_FILE = "model.onnx"
WEIGHTS_FILE = "model.onnx.data"
TOKENIZER_FILE = "tokenizer.json"

# Variants: w8a8 (DynamicQuantizeMatMul: int8 activations x int8 weights) or int8 (MatMulNBits, block 32)
# for the CPU's "full" tier (fp32 where neither is there), fp16 for CUDA's, int4 (MatMulNBits, block 32)
# for the "mini" tier.
VARIANTS = ("fp32", "fp16", "int8", "w8a8", "int4")

# Graph inputs. Symbolic dims: batch, sequence, cache_length (the preallocated buffer).
INPUT_IDS = "input_ids"  # int64 (batch, sequence)
SEQLENS_K = "seqlens_k"  # int32 (batch,): total tokens after this step minus one
TOTAL_SEQUENCE_LENGTH = "total_sequence_length"  # int32 scalar: past + new tokens


def past_key(layer: int) -> str:
    return f"past_key_values.{layer}.key"  # (batch, kv_heads, cache_length, head_dim)


def past_value(layer: int) -> str:
    return f"past_key_values.{layer}.value"


# Graph outputs.
LOGITS = "logits"  # float32 (batch, 1, vocab): the last position only


def present_key(layer: int) -> str:
    return f"present.{layer}.key"  # same buffer as past when bound in place


def present_value(layer: int) -> str:
    return f"present.{layer}.value"


# The quantization method of a bundle whose layers quantize their activations to int8 with one
# scale per step (w8a8): inference runs a prompt's first token apart (inference/decoder.py).
INT8_ACTIVATIONS_METHOD = "DynamicQuantizeMatMul"


class Manifest:
    """Manifest keys, grouped the way the JSON nests them."""

    FORMAT = "format"
    FORMAT_VERSION = "format_version"
    NAME = "name"
    VARIANT = "variant"
    ARCHITECTURE = "architecture"
    CONFIG = "config"  # ModelConfig fields
    DTYPE = "dtype"  # activation/cache dtype: float32 or float16
    # null, or {method, bits, head_bits, head_shortlist, block_size, accuracy_level, zero_points,
    # importance: {tokens} when the rounding was weighed by calibration text (4 bits)}; for w8a8
    # method is DynamicQuantizeMatMul, with activations: "int8 per step", weights: "int8 per channel"
    QUANTIZATION = "quantization"
    TOKENIZER = "tokenizer"  # file name
    # {bos, eos: [..], pad, fim: {prefix, suffix, middle, pad}|null, repo: {repo_name, file_sep}|null}
    SPECIAL_TOKENS = "special_tokens"
    ADD_BOS = "add_bos"
    CHAT_TEMPLATE = "chat_template"
    GRAPH = "graph"  # {file, data, inputs: [...], outputs: [...], kv_layout}
    SOURCE = "source"  # {kind, path, sha256}
    FILES = "files"  # {name: {bytes, sha256}}
    EXPORTER = "exporter"  # {version, revision, seconds}
