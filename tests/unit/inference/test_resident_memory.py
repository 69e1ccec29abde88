"""Paging out mapped weights loses nothing and, where the kernel allows, frees the pages."""

from __future__ import annotations

import mmap
import platform
import sys
from pathlib import Path

import numpy as np
import pytest

from ghostwright.inference.resident_memory import mappings_of, page_out_files, release_free_memory

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/self/maps and madvise are Linux's")


def resident_kb(start: int) -> int:
    """Rss of this process's mapping that starts at ``start``, from /proc/self/smaps."""
    lines = Path("/proc/self/smaps").read_text().splitlines()
    for i, line in enumerate(lines):
        if line.split("-")[0] == f"{start:x}":
            return next(int(x.split()[1]) for x in lines[i + 1:] if x.startswith("Rss:"))
    raise AssertionError("no such mapping")


@linux_only
def test_a_paged_out_mapping_reads_back_the_same_bytes(tmp_path):
    data = np.random.default_rng(0).integers(0, 256, 8 << 20, dtype=np.uint8)
    weights = tmp_path / "model.onnx.data"
    weights.write_bytes(data.tobytes())
    (tmp_path / "other").mkdir()
    with weights.open("rb") as f, mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ) as mapped:
        view = np.frombuffer(mapped, dtype=np.uint8)
        assert int(view.sum(dtype=np.int64)) == int(data.sum(dtype=np.int64))  # every page resident
        [(start, end)] = mappings_of(tmp_path)
        assert end - start == len(data)
        before = resident_kb(start)
        assert page_out_files(tmp_path / "other") == 0  # only the folder asked about
        advised = page_out_files(tmp_path)
        after = resident_kb(start)
        assert np.array_equal(view, data)  # read again from the file, unchanged
        del view
    assert advised in (0, 1)
    if advised:
        print(f"\nresident before {before} kB, after paging out {after} kB")
        assert before >= 8 << 10 and after < before // 2


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_free_heap_memory_is_returned_on_glibc():
    release_free_memory()
    blocks = [bytearray(4096) for _ in range(10_000)]  # 40 MB in the heap (below malloc's mmap threshold)
    del blocks
    assert release_free_memory() is True  # glibc says it gave pages back
