"""Code elsewhere in the workspace that looks like the code above the cursor.

Completions copy their neighbours: the emitter for one platform queues its events the way the
emitter for another does, a test reads like the test above it in another file. The index's
definitions say what a name *is*; these windows say how the project *uses* it. This is the
retrieval CrossCodeEval and RepoCoder measured (and Copilot's "similar snippets"): every file
cut into overlapping windows of lines, each window a set of identifiers, ranked against the
lines above the cursor by Jaccard similarity.

The store keeps no Python object per window: each file is three numpy arrays (identifier
hashes, the window each belongs to, window sizes) and the text, so a large workspace costs a
few bytes per identifier. A query is a handful of binary searches over one sorted
concatenation, rebuilt only after a file changed.

    store = SimilarCode()
    store.update("pkg/a.py", text)
    store.query(lines_above_cursor, exclude="pkg/b.py", limit=2)  # [Match(path, lines, score, text)]
"""

from __future__ import annotations

import re
import threading
import zlib
from dataclasses import dataclass

import numpy as np

WINDOW_LINES = 12  # lines per window (about what a completion's own query spans)
STRIDE = 6  # windows overlap by half, so a pattern is never cut in two
QUERY_LINES = 12  # the last lines above the cursor line make the query
MIN_SCORE = 0.15  # Jaccard below this is noise: two windows that share only `self` and `return`
MAX_TEXT_BYTES = 32 << 20  # workspace text kept for windows; files past it are not searched
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Match:
    path: str  # workspace-relative
    start_line: int  # 0-based, inclusive
    end_line: int  # 0-based, exclusive
    score: float  # Jaccard similarity of identifier sets, 0..1
    text: str


def identifier_hashes(text: str) -> np.ndarray:
    """Sorted unique 64-bit hashes of the identifiers in ``text`` (stable across runs)."""
    words = set(_WORD.findall(text))
    return np.unique(np.fromiter((zlib.crc32(w.encode()) | (len(w) << 32) for w in words),
                                 dtype=np.int64, count=len(words)))


@dataclass(frozen=True)
class _FileWindows:
    lines: tuple[str, ...]
    starts: np.ndarray  # int32 (W,): first line of each window
    sizes: np.ndarray  # int32 (W,): distinct identifiers in each window
    hashes: np.ndarray  # int64 (E,): each window's identifier hashes, window after window
    owner: np.ndarray  # int32 (E,): the window (0..W-1) each hash belongs to


def _cut(text: str) -> _FileWindows:
    lines = tuple(text.split("\n"))
    starts, sizes, parts, owners = [], [], [], []
    last_start = max(0, len(lines) - WINDOW_LINES)
    for start in sorted({*range(0, last_start + 1, STRIDE), last_start}):
        found = identifier_hashes("\n".join(lines[start : start + WINDOW_LINES]))
        if not len(found):
            continue
        owners.append(np.full(len(found), len(starts), dtype=np.int32))
        starts.append(start)
        sizes.append(len(found))
        parts.append(found)
    if not starts:
        empty = np.zeros(0, dtype=np.int32)
        return _FileWindows(lines, empty, empty, np.zeros(0, dtype=np.int64), empty)
    return _FileWindows(lines, np.asarray(starts, np.int32), np.asarray(sizes, np.int32),
                        np.concatenate(parts), np.concatenate(owners))


@dataclass(frozen=True)
class _Flat:
    """Every file's windows in one sorted array, for queries; rebuilt after a change."""

    paths: tuple[str, ...]
    files: tuple[_FileWindows, ...]
    window_file: np.ndarray  # int32 (W,): which file each global window is in
    window_local: np.ndarray  # int32 (W,): its index within that file
    sizes: np.ndarray  # int32 (W,)
    hashes: np.ndarray  # int64 (E,), sorted
    windows: np.ndarray  # int32 (E,): global window of each sorted hash


def _flatten(files: dict[str, _FileWindows]) -> _Flat:
    paths = tuple(sorted(files))
    chosen = tuple(files[p] for p in paths)
    counts = [len(f.starts) for f in chosen]
    offsets = np.cumsum([0, *counts])
    window_file = np.repeat(np.arange(len(paths), dtype=np.int32), counts)
    window_local = np.concatenate([np.arange(c, dtype=np.int32) for c in counts]) if paths else np.zeros(0, np.int32)
    sizes = np.concatenate([f.sizes for f in chosen]) if paths else np.zeros(0, np.int32)
    hashes = np.concatenate([f.hashes for f in chosen]) if paths else np.zeros(0, np.int64)
    windows = (np.concatenate([f.owner + offsets[i] for i, f in enumerate(chosen)]).astype(np.int32)
               if paths else np.zeros(0, np.int32))
    order = np.argsort(hashes, kind="stable")
    return _Flat(paths, chosen, window_file, window_local, sizes, hashes[order], windows[order])


class SimilarCode:
    """Windows of the workspace's files, searchable by the code above a cursor. Thread-safe."""

    def __init__(self, max_text_bytes: int = MAX_TEXT_BYTES) -> None:
        self.max_text_bytes = max_text_bytes
        self._files: dict[str, _FileWindows] = {}
        self._bytes: dict[str, int] = {}
        self._flat: _Flat | None = None
        self._lock = threading.Lock()
        self._version = 0  # bumped by every change: an answer is only reused for the files it saw
        self._last: tuple[tuple[object, ...], list[Match]] | None = None  # the last query and its answer
        self.full = False  # some file was left out: the text cap was reached

    def update(self, path: str, text: str) -> None:
        """(Re)cut one file; an empty text forgets it."""
        size = len(text.encode("utf-8", "surrogatepass"))
        cut = _cut(text) if text else None
        with self._lock:
            total = sum(self._bytes.values()) - self._bytes.get(path, 0)
            if cut is not None and total + size > self.max_text_bytes:
                self.full = True
                cut = None
            self._files.pop(path, None)
            self._bytes.pop(path, None)
            if cut is not None and len(cut.starts):
                self._files[path], self._bytes[path] = cut, size
            self._flat, self._last = None, None
            self._version += 1

    def remove(self, path: str) -> None:
        self.update(path, "")

    def query(self, code: str, *, exclude: str | None = None, limit: int = 2,
              min_score: float = MIN_SCORE) -> list[Match]:
        """The ``limit`` windows most like ``code`` (best first), at most one per stretch of a file:
        windows of one file that overlap a better one are skipped. The query is the same for every
        keystroke on one line, so the last answer is kept until the query or a file changes."""
        key = (self._version, code, exclude, limit, min_score)
        last = self._last
        if last is not None and last[0] == key:
            return last[1]
        found = self._search(code, exclude, limit, min_score)
        with self._lock:
            if self._version == key[0]:  # no file changed while searching
                self._last = (key, found)
        return found

    def _search(self, code: str, exclude: str | None, limit: int, min_score: float) -> list[Match]:
        query = identifier_hashes(code)
        flat = self._flattened()
        if not len(query) or not len(flat.sizes):
            return []
        # Every occurrence of a query identifier: a range of the sorted hashes per identifier.
        low = np.searchsorted(flat.hashes, query, side="left")
        high = np.searchsorted(flat.hashes, query, side="right")
        hits = np.concatenate([flat.windows[a:b] for a, b in zip(low, high, strict=True) if b > a] or
                              [np.zeros(0, np.int32)])
        shared = np.bincount(hits, minlength=len(flat.sizes))  # (W,) identifiers in common
        score = shared / (flat.sizes + len(query) - shared)
        if exclude is not None and exclude in flat.paths:
            score[flat.window_file == flat.paths.index(exclude)] = -1.0
        top = min(limit * 8, len(score))  # enough to skip overlapping windows; no full sort per query
        best = np.argpartition(-score, top - 1)[:top]
        ranked = best[np.argsort(-score[best], kind="stable")]
        found: list[Match] = []
        for window in ranked:
            if score[window] < min_score or len(found) >= limit:
                break
            file = flat.files[flat.window_file[window]]
            start = int(file.starts[flat.window_local[window]])
            end = min(start + WINDOW_LINES, len(file.lines))
            while start < end and not file.lines[start].strip():  # blank edges carry nothing
                start += 1
            while end > start and not file.lines[end - 1].strip():
                end -= 1
            path = flat.paths[flat.window_file[window]]
            if any(m.path == path and m.start_line < end and start < m.end_line for m in found):
                continue
            found.append(Match(path, start, end, float(score[window]), "\n".join(file.lines[start:end]) + "\n"))
        return found

    def _flattened(self) -> _Flat:
        with self._lock:
            if self._flat is None:
                self._flat = _flatten(self._files)
            return self._flat


def query_lines(lines: list[str]) -> str:
    """The query for a cursor: the last :data:`QUERY_LINES` non-blank lines above its line."""
    kept = [line for line in lines if line.strip()]
    return "\n".join(kept[-QUERY_LINES:])
