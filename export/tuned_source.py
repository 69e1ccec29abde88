"""A tuned model as a weight source: the base model's source plus a LoRA adapter, merged on read.

``ghostwright tune`` writes a folder holding ``tuned.json`` (the base source's path and sha256,
the adapter's scale) and ``adapter.npz`` (per adapted linear layer, the low-rank factors A and
B). Reading it gives the base's tensors with ``W + scale * B @ A`` where an adapter exists: the
merge peft's ``merge_and_unload`` does, in numpy. The folder is tens of megabytes, not a second
copy of the model, and any command that takes a source (``model export``, ``model verify``'s
reference) takes it, so the tuned model goes through the very exporter the base went through.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import numpy as np

from ghostwright.errors import ModelSourceError
from ghostwright.export.source import ModelSource, sha256_of

TUNED_FILE = "tuned.json"
ADAPTER_FILE = "adapter.npz"
FORMAT = "ghostwright-lora"


def is_tuned_source(path: Path) -> bool:
    return path.is_dir() and (path / TUNED_FILE).is_file()


Factors = dict[str, tuple[np.ndarray, np.ndarray]]


def write_tuned_source(folder: Path, base_path: Path, base_sha256: str, factors: Factors, scale: float,
                       details: dict[str, object] | None = None) -> Path:
    """Save ``factors`` (canonical tensor name -> (A (rank, in), B (out, rank))) beside the base's path."""
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for name, (a, b) in factors.items():
        arrays[f"{name}.lora_A"] = np.asarray(a, np.float32)
        arrays[f"{name}.lora_B"] = np.asarray(b, np.float32)
    partial = folder / (ADAPTER_FILE + ".partial")
    with partial.open("wb") as handle:
        np.savez(handle, **arrays)
    partial.replace(folder / ADAPTER_FILE)
    record = {"format": FORMAT, "base": {"path": str(base_path), "sha256": base_sha256}, "scale": scale,
              "adapted": sorted(factors), **(details or {})}
    (folder / TUNED_FILE).write_text(json.dumps(record, indent=2), encoding="utf-8")
    return folder


def read_tuned_source(folder: Path) -> ModelSource:
    from ghostwright.export.bundle import read_source

    try:
        record = json.loads((folder / TUNED_FILE).read_text(encoding="utf-8"))
        base_path, base_sha = Path(record["base"]["path"]), str(record["base"]["sha256"])
        scale = float(record["scale"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelSourceError(f"{folder / TUNED_FILE}: not a tuned model record ({exc})") from exc
    if record.get("format") != FORMAT:
        raise ModelSourceError(f"{folder / TUNED_FILE}: unknown format {record.get('format')!r}")
    base = read_source(base_path)
    if base.provenance.get("sha256") != base_sha:
        raise ModelSourceError(f"{folder}: the base model at {base_path} changed since it was tuned "
                               f"(sha256 {base.provenance.get('sha256', '?')[:12]}, tuned on {base_sha[:12]})")
    try:
        with np.load(folder / ADAPTER_FILE, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except (OSError, ValueError) as exc:
        raise ModelSourceError(f"{folder / ADAPTER_FILE}: unreadable adapter ({exc})") from exc
    known = set(base.required_tensors())
    factors: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for key in arrays:
        name = key.rsplit(".", 1)[0]
        if name not in known or f"{name}.lora_A" not in arrays or f"{name}.lora_B" not in arrays:
            raise ModelSourceError(f"{folder / ADAPTER_FILE}: {key} does not fit the base model")
        factors[name] = (arrays[f"{name}.lora_A"], arrays[f"{name}.lora_B"])

    def load_tensor(name: str) -> np.ndarray:
        weight = base.load_tensor(name)
        if name not in factors:
            return weight
        a, b = factors[name]
        if (b.shape[0], a.shape[1]) != weight.shape:
            raise ModelSourceError(f"{folder / ADAPTER_FILE}: {name} is {weight.shape} in the base, "
                                   f"the adapter makes {(b.shape[0], a.shape[1])}")
        return (weight.astype(np.float32) + np.float32(scale) * (b @ a)).astype(np.float32)

    digest = hashlib.sha256(f"{base_sha}\n{sha256_of(folder / ADAPTER_FILE)}\n{scale!r}".encode()).hexdigest()
    provenance = {"kind": "tuned", "path": str(folder), "sha256": digest, "base_sha256": base_sha,
                  "base_path": str(base_path)}
    return dataclasses.replace(base, load_tensor=load_tensor, provenance=provenance,
                               name=str(record.get("name") or folder.name))
