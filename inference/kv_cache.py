"""Preallocated KV buffers that the graph writes in place, and the slots that hold them.

A slot remembers which token ids its buffers hold. A new request takes the slot with
the longest common prefix, rewinds to it and prefills only the rest: one typed
character costs a few tokens of prefill, not the whole prompt.
"""

from __future__ import annotations

import ctypes
import mmap
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import onnxruntime as ort

from ghostwright.inference.resident_memory import libc


@dataclass
class KVCache:
    keys: list[ort.OrtValue]  # per layer: (rows, kv_heads, capacity, head_dim); a slot has one row
    values: list[ort.OrtValue]
    capacity: int  # tokens the buffers hold

    @staticmethod
    def allocate(layers: int, kv_heads: int, head_dim: int, capacity: int, dtype: np.dtype,
                 device: str, rows: int = 1) -> KVCache:
        shape = (rows, kv_heads, capacity, head_dim)

        def buffer() -> ort.OrtValue:
            if device == "cuda":
                return ort.OrtValue.ortvalue_from_shape_and_type(shape, dtype, "cuda", 0)
            return ort.OrtValue.ortvalue_from_numpy(_lazy_zeros(shape, np.dtype(dtype)))

        return KVCache([buffer() for _ in range(layers)], [buffer() for _ in range(layers)], capacity)

    @property
    def rows(self) -> int:
        return self.keys[0].shape()[0]

    def first_rows(self, count: int) -> KVCache:
        """The first ``count`` rows, sharing these buffers (CPU): a batch whose later rows have
        finished runs on fewer rows, and a row's K/V are contiguous, so no copy is made."""
        if count == self.rows:
            return self
        return KVCache([ort.OrtValue.ortvalue_from_numpy(_view(v)[:count]) for v in self.keys],
                       [ort.OrtValue.ortvalue_from_numpy(_view(v)[:count]) for v in self.values], self.capacity)

    def copy_row(self, source: KVCache, source_row: int, row: int, length: int) -> None:
        """Copy the first ``length`` positions of ``source``'s row into this cache's ``row`` (CPU)."""
        for mine, theirs in zip((*self.keys, *self.values), (*source.keys, *source.values), strict=True):
            _view(mine)[row, :, :length] = _view(theirs)[source_row, :, :length]

    def resident_bytes(self) -> int:
        """Bytes of these buffers in RAM now. A CPU buffer is its own anonymous mapping and the
        kernel gives it pages only as positions are first written, so a slot's RSS grows with the longest
        prompt it has held, up to ``nbytes``: bounded growth that a soak must tell from a leak."""
        return sum(resident_bytes(value) for value in (*self.keys, *self.values))

    @staticmethod
    def nbytes(layers: int, kv_heads: int, head_dim: int, capacity: int, dtype: np.dtype) -> int:
        return 2 * layers * kv_heads * capacity * head_dim * np.dtype(dtype).itemsize


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _lazy_zeros(shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """Zeros in a private anonymous mapping, not from malloc: calloc may hand back heap memory
    that earlier allocations already made resident (glibc raises its mmap threshold after a
    large free), so a slot's pages would not follow its writes; a mapping is also returned to
    the system whole when the slot is dropped. No huge pages, so one written position costs
    one page, not two megabytes."""
    nbytes = max(int(np.prod(shape)) * dtype.itemsize, 1)
    region = mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    if hasattr(mmap, "MADV_NOHUGEPAGE"):
        region.madvise(mmap.MADV_NOHUGEPAGE)
    return np.frombuffer(region, dtype=dtype, count=int(np.prod(shape))).reshape(shape)


def _view(value: ort.OrtValue) -> np.ndarray:
    """A CPU OrtValue's buffer as a numpy array over the same memory (no copy)."""
    if value.device_name() != "cpu":
        raise ValueError("only a CPU cache's rows can be copied or sliced")
    shape = tuple(value.shape())
    dtype = np.dtype(np.float16 if "float16" in value.data_type() else np.float32)
    nbytes = int(np.prod(shape)) * dtype.itemsize
    raw = (ctypes.c_byte * nbytes).from_address(value.data_ptr())
    raw._owner = value  # type: ignore[attr-defined]  # the view keeps the buffer it reads alive
    return np.frombuffer(raw, dtype=dtype).reshape(shape)


def resident_bytes(value: ort.OrtValue) -> int:
    """Resident bytes of a CPU OrtValue's buffer (mincore(2)); 0 on a GPU or where it cannot be asked."""
    mincore = getattr(libc(), "mincore", None)
    if value.device_name() != "cpu" or mincore is None:
        return 0
    size = int(np.prod(value.shape())) * value.numpy().itemsize if value.shape() else 0
    start = value.data_ptr()
    base = start - start % _PAGE
    pages = (start + size - base + _PAGE - 1) // _PAGE
    vector = (ctypes.c_ubyte * pages)()
    if mincore(ctypes.c_void_p(base), ctypes.c_size_t(pages * _PAGE), vector) != 0:
        return 0
    return sum(b & 1 for b in bytes(vector)) * _PAGE


def common_prefix(a: list[int], b: list[int]) -> int:
    n = min(len(a), len(b))
    if n == 0:
        return 0
    x = np.asarray(a[:n])
    y = np.asarray(b[:n])
    diff = np.flatnonzero(x != y)
    return int(diff[0]) if diff.size else n


@dataclass
class Slot:
    index: int
    cache: KVCache
    tokens: list[int] = field(default_factory=list)  # ids whose K/V are in the buffers, in order
    last_used: float = 0.0
    busy: bool = False
    owner: str | None = None  # the session (a document) that used it last


class SlotPool:
    """Up to ``max_slots`` caches, created on demand, reused by longest prefix, else LRU."""

    def __init__(self, allocate: Callable[[], KVCache], max_slots: int, capacity: int) -> None:
        self._allocate = allocate
        self.max_slots = max_slots
        self.capacity = capacity  # tokens each slot holds
        self.slots: list[Slot] = []
        self.releases = 0  # counts releases: a request that found no slot need not look again before the next

    def longest_prefix(self, prompt: list[int]) -> int:
        """How many leading prompt tokens the best slot holds (busy ones too: they free up soon)."""
        return max((common_prefix(s.tokens, prompt) for s in self.slots), default=0)

    def acquire(self, prompt: list[int], owner: str | None = None) -> tuple[Slot, int] | None:
        """A free slot and how many leading prompt tokens it already holds; None if all busy.

        A slot that shares only a short head with the prompt (the first tokens every prompt
        starts with) is a miss, not a hit: taking it would throw away another document's
        context to save a few tokens, and editors sharing one engine would evict each other
        on every keystroke. A miss takes a new slot while there is room, else the least
        recently used one. When only a busy slot holds the prompt's head (the request this one
        superseded, say, until its next step), this one waits for it: a new slot would prefill
        the whole prompt again and hold a second copy of it. A miss by a session that has a free
        slot of its own takes that one: its document's context changed (gathered anew at a pause),
        and the old one is of no use to anyone, so one document keeps one slot, not three."""
        shared = {s.index: common_prefix(s.tokens, prompt) for s in self.slots if not s.busy}
        free = [s for s in self.slots if s.index in shared]
        best = max(free, key=lambda s: (shared[s.index], -s.last_used), default=None)
        reuse = shared[best.index] if best else 0
        hit = _is_hit(reuse, prompt)
        if not hit and any(s.busy and _is_hit(common_prefix(s.tokens, prompt), prompt) for s in self.slots):
            return None
        own = [s for s in free if owner is not None and s.owner == owner]
        if not hit and own:
            best = max(own, key=lambda s: (shared[s.index], s.last_used))
            reuse = shared[best.index]
        elif not hit and len(self.slots) < self.max_slots:
            best, reuse = Slot(len(self.slots), self._allocate()), 0
            self.slots.append(best)
        elif best is not None and not hit:
            best = min(free, key=lambda s: s.last_used)  # least recently used
            reuse = shared[best.index]
        if best is None:
            return None
        best.busy, best.owner = True, owner
        # At least one token must run through the model to produce logits.
        reuse = min(reuse, len(prompt) - 1)
        del best.tokens[reuse:]
        return best, reuse

    def release(self, slot: Slot) -> None:
        slot.busy = False
        slot.last_used = time.monotonic()
        self.releases += 1


def _is_hit(shared: int, prompt: list[int]) -> bool:
    """Whether a slot that holds ``shared`` leading tokens of ``prompt`` is this prompt's own."""
    return shared > 0 and 2 * shared >= len(prompt)
