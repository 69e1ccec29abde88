"""One model variant on one device: a session and the forward step over a KV slot.

Every step is bound with IOBinding: the KV buffers are bound as both the past inputs and
the present outputs, so GroupQueryAttention appends the new keys/values in place and
nothing of the cache is copied between steps. Logits land in one preallocated buffer.

The exported graph slices the last position off before the head (prefill never pays for
the logits of the rest). Speculative decoding needs the logits of several positions, so
the session is built from the graph with that slice's start made an overridable
initializer: left alone it is -1 as exported; bound to -n it gives the last n rows.

    normed (B, T, hidden) ── Slice(starts=/model/last/starts, axis 1) ── head ── logits (B, n, vocab)
                                        ▲ overridable: [-1] by default

A w8a8 bundle quantizes each product's activations with one scale per step, and the first
position of a sequence carries activations 10-20x everyone else's (the attention sink: on
Qwen2.5-Coder-0.5B up to 173 against a median row's 8-11 in layers 2, 3 and 21-23), which would
coarsen that scale for the whole prompt. So a prompt that starts a sequence runs its first token
in a step of its own: one decode step's cost (~25 ms), and agreement with llama.cpp after a
prefill 95.7% -> 96.5%.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper

from ghostwright.errors import EngineError
from ghostwright.export import contract
from ghostwright.inference.kv_cache import KVCache
from ghostwright.inference.manifest import BundleManifest
from ghostwright.inference.ort_session import create_session
from ghostwright.inference.private_load import private_graph

log = logging.getLogger(__name__)

LAST_STARTS = "/model/last/starts"  # the initializer of the Slice that keeps the last position's logits


class Decoder:
    def __init__(self, manifest: BundleManifest, device: str, threads: int | None = None) -> None:
        self.manifest = manifest
        self.config = manifest.config
        self.session, self.device = _session_with_rows(manifest.file("file"), device, threads)
        quantization = manifest.raw.get(contract.Manifest.QUANTIZATION) or {}
        # Whether a sequence's first token runs in a step of its own (see the module docstring).
        self.sink_apart = quantization.get("method") == contract.INT8_ACTIVATIONS_METHOD
        # Whether forward() can return the logits of several positions (graphs exported with the slice).
        self.multi_row = LAST_STARTS in {i.name for i in self.session.get_inputs()}
        self.dtype = np.dtype(np.float16 if manifest.dtype == "float16" else np.float32)
        self._logits: dict[int, ort.OrtValue] = {}  # rows -> preallocated (1, rows, vocab) buffer
        self._bindings: dict[int, ort.IOBinding] = {}  # per cache, keyed by id(cache)
        self._bound_rows: dict[int, int] = {}  # per cache: the rows its binding now returns

    def allocate_cache(self, capacity: int, rows: int = 1) -> KVCache:
        c = self.config
        capacity = min(capacity, c.max_position_embeddings)
        return KVCache.allocate(c.num_layers, c.num_kv_heads, c.head_dim, capacity, self.dtype, self.device, rows)

    def cache_nbytes(self, capacity: int) -> int:
        c = self.config
        return KVCache.nbytes(c.num_layers, c.num_kv_heads, c.head_dim, min(capacity, c.max_position_embeddings),
                              self.dtype)

    def _buffer(self, rows: int, batch: int = 1) -> ort.OrtValue:
        key = rows if batch == 1 else -batch  # (1, rows, vocab) for a slot; (batch, 1, vocab) for a batch
        if key not in self._logits:
            shape = (batch, rows, self.config.vocab_size)
            self._logits[key] = ort.OrtValue.ortvalue_from_numpy(np.zeros(shape, np.float32))
        return self._logits[key]

    def _binding(self, cache: KVCache, rows: int, batch: int = 1) -> ort.IOBinding:
        """Bind the cache's buffers once; later steps rebind the token inputs (and the logits
        buffer when the number of rows changes)."""
        key = id(cache)
        binding = self._bindings.get(key)
        if binding is None:
            binding = self.session.io_binding()
            for i in range(self.config.num_layers):
                binding.bind_ortvalue_input(contract.past_key(i), cache.keys[i])
                binding.bind_ortvalue_input(contract.past_value(i), cache.values[i])
                binding.bind_ortvalue_output(contract.present_key(i), cache.keys[i])
                binding.bind_ortvalue_output(contract.present_value(i), cache.values[i])
            self._bindings[key] = binding
        if self._bound_rows.get(key) != rows:
            binding.bind_ortvalue_output(contract.LOGITS, self._buffer(rows, batch))
            if self.multi_row:
                binding.bind_cpu_input(LAST_STARTS, np.asarray([-rows], dtype=np.int64))
            self._bound_rows[key] = rows
        return binding

    def forward(self, cache: KVCache, ids: list[int], past_length: int, rows: int = 1) -> np.ndarray:
        """Run ``ids`` after ``past_length`` cached tokens; logits (vocab,) of the last one, or
        with ``rows`` > 1 the logits (rows, vocab) of the last ``rows`` positions."""
        total = past_length + len(ids)
        if total > cache.capacity:
            raise EngineError(f"the KV cache holds {cache.capacity} tokens; this step needs {total}")
        if rows > 1 and not (self.multi_row and rows <= len(ids)):
            raise EngineError(f"this graph cannot return the logits of {rows} positions of {len(ids)}")
        if self.sink_apart and past_length == 0 and len(ids) > rows:
            self.forward(cache, ids[:1], 0)
            ids, past_length = ids[1:], 1
        binding = self._binding(cache, rows)
        binding.bind_cpu_input(contract.INPUT_IDS, np.asarray([ids], dtype=np.int64))
        binding.bind_cpu_input(contract.SEQLENS_K, np.asarray([total - 1], dtype=np.int32))
        binding.bind_cpu_input(contract.TOTAL_SEQUENCE_LENGTH, np.asarray(total, dtype=np.int32))
        self.session.run_with_iobinding(binding)
        out = self._logits[rows].numpy()[0]  # (rows, vocab); the buffer is rewritten by the next step
        return out[0].copy() if rows == 1 else out.copy()

    def forward_batch(self, cache: KVCache, ids: list[int], lengths: list[int]) -> np.ndarray:
        """One token per row of a batched ``cache``: row ``i`` runs ``ids[i]`` after its own
        ``lengths[i]`` cached tokens (rows may differ: GroupQueryAttention reads each row's
        length from ``seqlens_k`` and ropes each at its own position). Logits (rows, vocab)."""
        batch = cache.rows
        if len(ids) != batch or len(lengths) != batch:
            raise EngineError(f"a batch of {batch} rows needs {batch} tokens and lengths")
        if max(lengths) + 1 > cache.capacity:
            raise EngineError(f"the KV cache holds {cache.capacity} tokens; this step needs {max(lengths) + 1}")
        binding = self._binding(cache, 1, batch)
        binding.bind_cpu_input(contract.INPUT_IDS, np.asarray(ids, dtype=np.int64).reshape(batch, 1))
        binding.bind_cpu_input(contract.SEQLENS_K, np.asarray(lengths, dtype=np.int32))
        binding.bind_cpu_input(contract.TOTAL_SEQUENCE_LENGTH, np.asarray(max(lengths) + 1, dtype=np.int32))
        self.session.run_with_iobinding(binding)
        return self._buffer(1, batch).numpy()[:, 0].copy()

    def forget(self, cache: KVCache) -> None:
        self._bindings.pop(id(cache), None)
        self._bound_rows.pop(id(cache), None)


def _session_with_rows(path: Path, device: str, threads: int | None) -> tuple[ort.InferenceSession, str]:
    """A session on the bundle's graph with the last-position slice overridable (see the module
    docstring); on the graph as exported when it has no such slice or no private folder can be
    written (a read-only bundle). Either way it is loaded through ``private_graph``, which keeps
    a change to the bundle's files from pulling the weights away under a running server."""
    try:
        model: onnx.ModelProto | None = onnx.load(str(path), load_external_data=False)
    except Exception:  # a graph onnx cannot read: onnxruntime's load below says why, clearly
        model = None
    with private_graph(path, model, _with_overridable_rows(model)) as graph:
        return create_session(graph, device, threads)


def _with_overridable_rows(model: onnx.ModelProto | None) -> bytes | None:
    """The graph with the last-position slice's start made an input, or None where it has none."""
    if model is None:
        return None
    graph = model.graph
    if not any(t.name == LAST_STARTS for t in graph.initializer) or any(i.name == LAST_STARTS for i in graph.input):
        return None
    graph.initializer.remove(next(t for t in graph.initializer if t.name == LAST_STARTS))
    graph.input.append(helper.make_tensor_value_info(LAST_STARTS, TensorProto.INT64, [1]))
    for output in graph.output:
        if output.name == contract.LOGITS:
            output.type.tensor_type.shape.dim[1].dim_param = "logits_rows"
    return model.SerializeToString()
