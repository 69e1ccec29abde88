"""Stream initializers into one external-data file as the graph is built.

Writing each tensor as soon as it is made keeps peak memory at one tensor rather than
the whole model, and page-aligned offsets let onnxruntime memory-map the weights.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import numpy as np
from onnx import TensorProto, helper

ALIGNMENT = 4096


class WeightsWriter:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: BinaryIO = path.open("wb")
        self._offset = 0

    def tensor(self, name: str, array: np.ndarray) -> TensorProto:
        array = np.ascontiguousarray(array)
        proto = TensorProto()
        proto.name = name
        proto.data_type = helper.np_dtype_to_tensor_dtype(array.dtype)
        proto.dims.extend(array.shape)
        if array.nbytes < 1024:  # small tensors stay inline in the graph
            proto.raw_data = array.tobytes()
            return proto
        pad = -self._offset % ALIGNMENT
        if pad:
            self._file.write(b"\0" * pad)
            self._offset += pad
        self._file.write(array.tobytes())
        proto.data_location = TensorProto.EXTERNAL
        for key, value in (("location", self.path.name), ("offset", self._offset), ("length", array.nbytes)):
            entry = proto.external_data.add()
            entry.key = key
            entry.value = str(value)
        self._offset += array.nbytes
        return proto

    def close(self) -> None:
        self._file.close()
