"""A minimal, validating reader for .safetensors files, memory-mapped.

The `safetensors` package cannot hand numpy a bfloat16 tensor, and most Hugging Face
checkpoints are bfloat16; the format is a length-prefixed JSON header and raw bytes, so
we read it directly and widen bf16 to float32 ourselves.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np

from ghostwright.errors import ModelSourceError

_DTYPES = {"F32": np.float32, "F16": np.float16, "BF16": np.uint16, "F64": np.float64}


class SafetensorsFile:
    def __init__(self, path: Path) -> None:
        self.path = path
        size = path.stat().st_size
        with path.open("rb") as f:
            head = f.read(8)
            if len(head) < 8:
                raise ModelSourceError(f"{path}: too short to be a safetensors file")
            (header_len,) = struct.unpack("<Q", head)
            if header_len > min(size - 8, 100 << 20):
                raise ModelSourceError(f"{path}: corrupt safetensors header length {header_len}")
            try:
                header = json.loads(f.read(header_len))
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise ModelSourceError(f"{path}: corrupt safetensors header ({exc})") from exc
        header.pop("__metadata__", None)
        self._base = 8 + header_len
        self._entries: dict[str, dict] = header
        for name, entry in header.items():
            _begin, end = entry["data_offsets"]
            if self._base + end > size:
                raise ModelSourceError(f"{path}: truncated: tensor {name} ends past the end of the file")
            if entry["dtype"] not in _DTYPES:
                raise ModelSourceError(f"{path}: tensor {name} has unsupported dtype {entry['dtype']}")

    def names(self) -> list[str]:
        return list(self._entries)

    def shape(self, name: str) -> tuple[int, ...]:
        return tuple(self._entries[name]["shape"])

    def load(self, name: str) -> np.ndarray:
        entry = self._entries[name]
        begin, end = entry["data_offsets"]
        dtype = _DTYPES[entry["dtype"]]
        raw = np.memmap(self.path, dtype=np.uint8, mode="r", offset=self._base + begin, shape=(end - begin,))
        array = raw.view(dtype).reshape(entry["shape"])
        if entry["dtype"] == "BF16":
            return (array.astype(np.uint32) << 16).view(np.float32)
        return array.astype(np.float32)


def write_safetensors(path: Path, tensors: dict[str, np.ndarray]) -> None:
    """Write float32/float16 tensors; used by tests to build checkpoints the way HF does."""
    names = {np.dtype(np.float32): "F32", np.dtype(np.float16): "F16"}
    header: dict[str, dict] = {}
    offset = 0
    for name, array in tensors.items():
        header[name] = {
            "dtype": names[array.dtype],
            "shape": list(array.shape),
            "data_offsets": [offset, offset + array.nbytes],
        }
        offset += array.nbytes
    blob = json.dumps(header).encode()
    blob += b" " * (-len(blob) % 8)
    with path.open("wb") as f:
        f.write(struct.pack("<Q", len(blob)))
        f.write(blob)
        for array in tensors.values():
            f.write(np.ascontiguousarray(array).tobytes())
