"""Where 4 bits cost most: each group of a layer's weights rounded to 4 bits alone, in numpy.

The default model's GGUF weights, dequantized exactly, run through the numpy reference forward
pass on real code; then, one group at a time (a layer's q/k/v, its o, its gate/up, its down),
that group alone is rounded to 4 bits as the int4 export rounds it, and the KL divergence of the
next-token distribution from the source's is measured. No activation quantization and no
onnxruntime: this isolates the weights' rounding, which is what a variant's bit choices decide.
It ends with whole configurations against the source: all 4-bit, and int4 as exported.

    python bench/quant_sensitivity.py [--tokens 256]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import default_model, real_code, save, table

GROUPS = {"qkv": ("q", "k", "v"), "o": ("o",), "gate_up": ("gate", "up"), "down": ("down",)}


def log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=256)
    args = parser.parse_args()
    from tokenizers import Tokenizer

    from ghostwright.export import reference
    from ghostwright.export.bundle import read_source
    from ghostwright.export.graph import VARIANT_SPECS
    from ghostwright.export.importance import input_importance, inputs_of
    from ghostwright.export.quantize import dequantize, quantize
    from ghostwright.export.source import BIAS_TENSORS, LAYER_TENSORS

    started = time.perf_counter()
    _, gguf = default_model()
    source = read_source(gguf)
    c = source.config
    importance = input_importance(source)
    ids = np.asarray(Tokenizer.from_str(source.tokenizer_json).encode(real_code()).ids[: args.tokens])
    cos, sin = reference.rope_angles(c, np.arange(len(ids)))
    mask = reference.attention_mask(c, len(ids))
    names = LAYER_TENSORS + (BIAS_TENSORS if c.attention_bias else ())
    layers = [{n: source.load_tensor(f"layers.{i}.{n}") for n in names} for i in range(c.num_layers)]
    norm = source.load_tensor("norm")
    head = source.load_tensor("embed" if c.tie_word_embeddings else "lm_head")

    def run(weights: list[dict[str, np.ndarray]], start: int, x: np.ndarray) -> np.ndarray:
        for i in range(start, c.num_layers):
            x = reference.block(c, weights[i], x, cos, sin, mask)
        return log_softmax(reference.rms_norm(x, norm, c.rms_norm_eps) @ head.T)

    states = [source.load_tensor("embed")[ids]]  # the source's input to every layer
    for i in range(c.num_layers):
        states.append(reference.block(c, layers[i], states[-1], cos, sin, mask))
    exact = log_softmax(reference.rms_norm(states[-1], norm, c.rms_norm_eps) @ head.T)

    def kl(logp: np.ndarray) -> float:
        return float((np.exp(exact) * (exact - logp)).sum(-1).mean())

    def rounded(i: int, name: str, bits: int) -> np.ndarray:
        w = layers[i][name]
        return dequantize(quantize(w, bits, importance=importance[inputs_of(f"layers.{i}.{name}")]))

    groups: dict[str, dict[str, float]] = {}
    for i in range(c.num_layers):
        for group, members in GROUPS.items():
            changed = [dict(layer) for layer in layers]
            changed[i].update((n, rounded(i, n, 4)) for n in members)
            groups[f"{i}.{group}"] = {"kl": kl(run(changed, i, states[i])),
                                      "params": sum(layers[i][n].size for n in members)}
    total_kl = sum(g["kl"] for g in groups.values())
    total_params = sum(g["params"] for g in groups.values())
    rows = [["group (every layer)", "share of the summed KL", "share of the weights"]]
    for group in GROUPS:
        mine = [g for key, g in groups.items() if key.endswith(f".{group}")]
        rows.append([group, f"{sum(g['kl'] for g in mine) / total_kl:.0%}",
                     f"{sum(g['params'] for g in mine) / total_params:.1%}"])
    worst = sorted(groups.items(), key=lambda kv: -kv[1]["kl"] / kv[1]["params"])[:8]

    def configuration(bits_of: Callable[[str], int]) -> dict[str, float]:
        weights = [{n: rounded(i, n, bits_of(n)) if layers[i][n].ndim == 2 else layers[i][n] for n in layers[i]}
                   for i in range(c.num_layers)]
        logp = run(weights, 0, states[0])
        return {"kl": kl(logp), "top1": float((logp.argmax(-1) == exact.argmax(-1)).mean())}

    configurations = {"every linear weight 4-bit": configuration(lambda n: 4),
                      "int4 as exported": configuration(lambda n: VARIANT_SPECS["int4"].bits_of(f"layers.0.{n}"))}
    print(f"{gguf.name}, {len(ids)} tokens of standard-library Python, one group at a time rounded to 4 bits "
          f"(importance-weighted, as int4 exports); KL of the next-token distribution from the source's")
    print(table(rows))
    print("most KL per weight: " + ", ".join(f"layer {k} {v['kl'] / v['params'] * 1e6:.5f}/M" for k, v in worst))
    print(table([["weights", "KL from the source", "top-1 = the source's"]]
                + [[k, f"{v['kl']:.4f}", f"{v['top1']:.1%}"] for k, v in configurations.items()]))
    print(f"({time.perf_counter() - started:.0f} s)")
    save("quant_sensitivity", {"tokens": len(ids), "groups": groups, "configurations": configurations})


if __name__ == "__main__":
    main()
