"""Give memory that no one will read again back to the system.

Two kinds, both measured on the default profile (Qwen2.5-Coder-0.5B int4 with SmolLM2 int4):
- The C heap's free pages. glibc keeps what was freed at the top of its heaps: parsing an
  11 MB tokenizer.json, prepacking weights and each request's activations leave tens of MB
  that count in the server's resident set (38 MB after loading). ``malloc_trim`` returns them.
- Weight pages onnxruntime mapped and read once. It maps each initializer of the weights file
  on its own and prepacks MatMulNBits' weights into memory of its own, but the scales and
  zero points it read while packing stay mapped and resident (68 MB for Qwen's int4 bundle),
  as do the embedding rows a prompt once gathered. ``MADV_PAGEOUT`` asks the kernel to reclaim
  those pages: they are clean, private, read-only copies of a file, so a page read again is
  simply read from the file again. Nothing is ever lost by it; at worst it comes back.

On a system without glibc or without MADV_PAGEOUT (Linux < 5.4, macOS) nothing is done.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import sys
from pathlib import Path

log = logging.getLogger(__name__)

MADV_PAGEOUT = 21  # Linux's number: on another system 21 may mean something else

_SIGNATURES = {  # the C library's functions this package calls: name -> (argument types, result type)
    "mincore": ([ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_ubyte)], ctypes.c_int),
    "madvise": ([ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int], ctypes.c_int),
    "malloc_trim": ([ctypes.c_size_t], ctypes.c_int),  # glibc only
}


@functools.cache
def libc() -> ctypes.CDLL | None:
    """The process's C library with the signatures above set on those it has (None where it
    cannot be loaded); ``getattr(libc(), name, None)`` is None for a function it lacks."""
    try:
        lib = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None
    for name, (arguments, result) in _SIGNATURES.items():
        function = getattr(lib, name, None)
        if function is not None:
            function.argtypes, function.restype = arguments, result
    return lib


def release_free_memory() -> bool:
    """Return freed heap pages to the system; whether any were returned."""
    trim = getattr(libc(), "malloc_trim", None)
    return bool(trim(0)) if trim is not None else False


def mappings_of(folder: Path) -> list[tuple[int, int]]:
    """(start, end) of this process's file mappings of files inside ``folder``."""
    prefix = str(folder.resolve()) + "/"
    ranges = []
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            for line in maps:
                fields = line.split(maxsplit=5)
                if len(fields) == 6 and fields[5].startswith(prefix):
                    start, end = fields[0].split("-")
                    ranges.append((int(start, 16), int(end, 16)))
    except OSError:
        return []
    return ranges


def page_out_files(folder: Path) -> int:
    """Ask the kernel to reclaim the resident pages of this process's mappings of files in
    ``folder``; the number of mappings it accepted the advice for."""
    madvise = getattr(libc(), "madvise", None) if sys.platform.startswith("linux") else None
    if madvise is None:
        return 0
    advised = 0
    for start, end in mappings_of(folder):
        if madvise(start, end - start, MADV_PAGEOUT) != 0:
            log.debug("madvise(MADV_PAGEOUT) refused (errno %d): keeping the pages", ctypes.get_errno())
            return advised
        advised += 1
    return advised
