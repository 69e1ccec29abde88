"""Code elsewhere in the workspace that looks like the code above the cursor.

Completions copy their neighbours: the emitter for one platform queues its events the way the
emitter for another does, a test reads like the test above it in another file. The index's
definitions say what a name *is*; these windows say how the project *uses* it. This is the
retrieval CrossCodeEval and RepoCoder measured (and Copilot's "similar snippets"): every file
cut into overlapping windows of lines, each window a set of identifiers, ranked against the
lines above the cursor by Jaccard similarity.

The store keeps no Python object per window or line: each file is its text, its line offsets
and three numpy arrays (identifier hashes, the window each belongs to, window sizes), so a
large workspace costs a few bytes per identifier. A query is a handful of binary searches over
one sorted concatenation. After a file changes the concatenation is rebuilt: at once for a
small workspace (a few milliseconds), in a background thread for a large one (0.2–0.6 s at the
text cap on 2 cores), while queries keep using the previous one: a keystroke never waits for it.

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
MAX_TEXT_BYTES = 12 << 20  # workspace text kept for windows (~50,000 windows); files past it are not searched
# Up to this many identifier postings the concatenation is rebuilt inside the query (~0.1 ms per 1,000
# on 2 cores: ~8 ms here; watchdog's package is 44,000); past it, in the background.
SYNC_POSTINGS = 100_000
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Match:
    path: str  # workspace-relative
    start_line: int  # 0-based, inclusive
    end_line: int  # 0-based, exclusive
    score: float  # Jaccard similarity of identifier sets, 0..1
    text: str


def identifiers(text: str) -> set[str]:
    return set(_WORD.findall(text))


def identifier_hashes(text: str) -> np.ndarray:
    """Sorted unique 64-bit hashes of the identifiers in ``text`` (stable across runs)."""
    words = identifiers(text)
    return np.unique(np.fromiter((zlib.crc32(w.encode()) | (len(w) << 32) for w in words),
                                 dtype=np.int64, count=len(words)))


@dataclass(frozen=True)
class _FileWindows:
    text: str
    line_starts: np.ndarray  # int64 (L + 1,): where each line starts in text, then len(text) + 1
    starts: np.ndarray  # int32 (W,): first line of each window
    sizes: np.ndarray  # int32 (W,): distinct identifiers in each window
    hashes: np.ndarray  # int64 (E,): each window's identifier hashes, window after window
    owner: np.ndarray  # int32 (E,): the window (0..W-1) each hash belongs to

    def line(self, number: int) -> str:
        return self.text[self.line_starts[number] : self.line_starts[number + 1] - 1]

    @property
    def line_count(self) -> int:
        return len(self.line_starts) - 1


def _cut(text: str) -> _FileWindows:
    lines = text.split("\n")
    line_starts = np.cumsum([0, *(len(line) + 1 for line in lines)], dtype=np.int64)
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
        return _FileWindows(text, line_starts, empty, empty, np.zeros(0, dtype=np.int64), empty)
    return _FileWindows(text, line_starts, np.asarray(starts, np.int32), np.asarray(sizes, np.int32),
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

    def __init__(self, max_text_bytes: int = MAX_TEXT_BYTES, sync_postings: int = SYNC_POSTINGS) -> None:
        self.max_text_bytes = max_text_bytes
        self.sync_postings = sync_postings
        self._files: dict[str, _FileWindows] = {}
        self._bytes: dict[str, int] = {}
        self._total_bytes = 0
        self._postings = 0
        self._flat = _flatten({})  # what queries search: may trail the files while it is rebuilt
        self._dirty = False  # a file changed since self._flat was built
        self._rebuilding = False  # a background rebuild is under way
        self._lock = threading.Lock()
        # The last query: the windows it searched, its arguments, its answer.
        self._last: tuple[_Flat, tuple[object, ...], list[Match]] | None = None
        self.full = False  # some file was left out: the text cap was reached

    def update(self, path: str, text: str) -> None:
        """(Re)cut one file; an empty text forgets it."""
        size = len(text.encode("utf-8", "surrogatepass"))
        with self._lock:  # past the cap a new file is not cut at all (the cut is the costly part)
            room = self._total_bytes - self._bytes.get(path, 0) + size <= self.max_text_bytes
        cut = _cut(text) if text and room else None
        with self._lock:
            old = self._files.pop(path, None)
            self._total_bytes -= self._bytes.pop(path, 0)
            self._postings -= len(old.hashes) if old is not None else 0
            if (text and not room) or (cut is not None and self._total_bytes + size > self.max_text_bytes):
                self.full, cut = True, None
            if cut is not None and len(cut.starts):
                self._files[path], self._bytes[path] = cut, size
                self._total_bytes += size
                self._postings += len(cut.hashes)
            self._dirty = True

    def remove(self, path: str) -> None:
        self.update(path, "")

    def query(self, code: str, *, exclude: str | None = None, limit: int = 2,
              min_score: float = MIN_SCORE) -> list[Match]:
        """The ``limit`` windows most like ``code`` (best first), at most one per stretch of a file:
        windows of one file that overlap a better one are skipped. The query is the same for every
        keystroke on one line, so the last answer is kept until the query or the windows change."""
        flat = self._flattened()
        key = (code, exclude, limit, min_score)
        last = self._last
        if last is not None and last[0] is flat and last[1] == key:
            return last[2]
        found = _search(flat, code, exclude, limit, min_score)
        self._last = (flat, key, found)
        return found

    def _flattened(self) -> _Flat:
        """The windows to search: rebuilt here when a file changed and the workspace is small;
        for a large one a background thread rebuilds them and this query searches the last ones."""
        with self._lock:
            if not self._dirty:
                return self._flat
            if self._postings <= self.sync_postings:
                self._flat, self._dirty = _flatten(self._files), False
                return self._flat
            if not self._rebuilding:
                self._rebuilding = True
                threading.Thread(target=self._rebuild, args=(dict(self._files),), name="ghostwright-similar",
                                 daemon=True).start()
            return self._flat

    def _rebuild(self, files: dict[str, _FileWindows]) -> None:
        flat = None
        try:
            flat = _flatten(files)
        finally:
            with self._lock:
                self._rebuilding = False
                if flat is not None:  # still dirty if a file changed after the snapshot was taken
                    self._flat = flat
                    self._dirty = len(files) != len(self._files) or any(
                        self._files.get(path) is not cut for path, cut in files.items())


def _search(flat: _Flat, code: str, exclude: str | None, limit: int, min_score: float) -> list[Match]:
    query = identifier_hashes(code)
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
        end = min(start + WINDOW_LINES, file.line_count)
        while start < end and not file.line(start).strip():  # blank edges carry nothing
            start += 1
        while end > start and not file.line(end - 1).strip():
            end -= 1
        path = flat.paths[flat.window_file[window]]
        if any(m.path == path and m.start_line < end and start < m.end_line for m in found):
            continue
        text = file.text[file.line_starts[start] : file.line_starts[end] - 1]
        found.append(Match(path, start, end, float(score[window]), text + "\n"))
    return found


def query_lines(lines: list[str]) -> str:
    """The query for a cursor: the last :data:`QUERY_LINES` non-blank lines above its line."""
    kept = [line for line in lines if line.strip()]
    return "\n".join(kept[-QUERY_LINES:])
