"""One model variant on one device: a session and the forward step over a KV slot.

Every step is bound with IOBinding: the KV buffers are bound as both the past inputs and
the present outputs, so GroupQueryAttention appends the new keys/values in place and
nothing of the cache is copied between steps. Logits land in one preallocated buffer.
"""

from __future__ import annotations

import numpy as np
import onnxruntime as ort

from ghostwright.errors import EngineError
from ghostwright.export import contract
from ghostwright.inference.kv_cache import KVCache
from ghostwright.inference.manifest import BundleManifest
from ghostwright.inference.ort_session import create_session


class Decoder:
    def __init__(self, manifest: BundleManifest, device: str, threads: int | None = None) -> None:
        self.manifest = manifest
        self.config = manifest.config
        self.session, self.device = create_session(manifest.file("file"), device, threads)
        self.dtype = np.dtype(np.float16 if manifest.dtype == "float16" else np.float32)
        self._logits = ort.OrtValue.ortvalue_from_numpy(np.zeros((1, 1, self.config.vocab_size), np.float32))
        self._bindings: dict[int, ort.IOBinding] = {}  # per cache, keyed by id(cache)

    def allocate_cache(self, capacity: int) -> KVCache:
        c = self.config
        capacity = min(capacity, c.max_position_embeddings)
        return KVCache.allocate(c.num_layers, c.num_kv_heads, c.head_dim, capacity, self.dtype, self.device)

    def _binding(self, cache: KVCache) -> ort.IOBinding:
        """Bind the cache's buffers once; later steps rebind only the token inputs."""
        binding = self._bindings.get(id(cache))
        if binding is None:
            binding = self.session.io_binding()
            for i in range(self.config.num_layers):
                binding.bind_ortvalue_input(contract.past_key(i), cache.keys[i])
                binding.bind_ortvalue_input(contract.past_value(i), cache.values[i])
                binding.bind_ortvalue_output(contract.present_key(i), cache.keys[i])
                binding.bind_ortvalue_output(contract.present_value(i), cache.values[i])
            binding.bind_ortvalue_output(contract.LOGITS, self._logits)
            self._bindings[id(cache)] = binding
        return binding

    def forward(self, cache: KVCache, ids: list[int], past_length: int) -> np.ndarray:
        """Run ``ids`` after ``past_length`` cached tokens; logits (vocab,) of the last one."""
        total = past_length + len(ids)
        if total > cache.capacity:
            raise EngineError(f"the KV cache holds {cache.capacity} tokens; this step needs {total}")
        binding = self._binding(cache)
        binding.bind_cpu_input(contract.INPUT_IDS, np.asarray([ids], dtype=np.int64))
        binding.bind_cpu_input(contract.SEQLENS_K, np.asarray([total - 1], dtype=np.int32))
        binding.bind_cpu_input(contract.TOTAL_SEQUENCE_LENGTH, np.asarray(total, dtype=np.int32))
        self.session.run_with_iobinding(binding)
        return self._logits.numpy()[0, 0].copy()  # the buffer is rewritten by the next step

    def forget(self, cache: KVCache) -> None:
        self._bindings.pop(id(cache), None)
