"""The workspace cut into chunks, for Ask: the index's files, chunked once and re-chunked on change.

Which files: exactly those the workspace index walks (``.gitignore`` honoured; binary,
huge, generated and secret files skipped — see ``context/workspace_files.py``), plus
open documents inside the root, whose unsaved text wins over the disk. A file is
re-chunked when its size or mtime changes (or, when open, its version). Gathering runs
in a worker thread within a time budget, so a huge monorepo gives a partial answer
rather than a stalled server; line counts for citation checks come from the same text.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ghostwright.server.ask.chunks import SourceChunk, chunk_lines, chunk_tree
from ghostwright.server.context.languages import new_parser, spec_for
from ghostwright.server.context.secrets import is_secret_file

log = logging.getLogger(__name__)

GATHER_BUDGET_S = 5.0


@dataclass(frozen=True)
class Snapshot:
    """Text of the open documents, taken on the event loop (documents change only there)."""

    texts: dict[str, tuple[int, str]]  # relative path -> (version, text)


class ChunkStore:
    def __init__(self, root: Path, max_lines: int = 40) -> None:
        self.root = root
        self.max_lines = max_lines
        self._files: dict[str, tuple[object, int, list[SourceChunk]]] = {}  # path -> (stamp, lines, chunks)
        self._lock = threading.Lock()
        self.partial = False  # the last gather ran out of time

    def gather(self, paths: list[str], snapshot: Snapshot, budget_s: float = GATHER_BUDGET_S) -> list[SourceChunk]:
        """Chunks of ``paths`` (workspace-relative) and of the open documents, in path order."""
        deadline = time.monotonic() + budget_s
        wanted = sorted(set(paths) | set(snapshot.texts))
        chunks: list[SourceChunk] = []
        self.partial = False
        for path in wanted:
            if time.monotonic() > deadline:
                self.partial = True
                log.warning("ask: chunking budget of %.0fs spent; %d of %d files searched", budget_s,
                            wanted.index(path), len(wanted))
                break
            chunks += self._chunks_of(path, snapshot.texts.get(path))
        with self._lock:  # forget files that left the index
            for gone in set(self._files) - set(wanted):
                del self._files[gone]
        return chunks

    def line_count(self, path: str) -> int | None:
        """Lines of a workspace file as last chunked, else read from disk; None if it is not one."""
        with self._lock:
            known = self._files.get(path)
        if known is not None:
            return known[1]
        file = (self.root / path).resolve()
        if not file.is_relative_to(self.root) or is_secret_file(path) or not file.is_file():
            return None
        try:
            return len(file.read_text(encoding="utf-8", errors="replace").split("\n"))
        except OSError:
            return None

    def _chunks_of(self, path: str, open_doc: tuple[int, str] | None) -> list[SourceChunk]:
        if is_secret_file(path):
            return []
        file = self.root / path
        if open_doc is not None:
            stamp: object = ("open", open_doc[0], len(open_doc[1]), hash(open_doc[1]))
        else:
            try:
                stat = file.stat()
            except OSError:
                return []
            stamp = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            known = self._files.get(path)
        if known is not None and known[0] == stamp:
            return known[2]
        try:
            text = open_doc[1] if open_doc is not None else file.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return []
        chunks = self._chunk(path, text)
        with self._lock:
            self._files[path] = (stamp, len(text.split("\n")), chunks)
        return chunks

    def _chunk(self, path: str, text: str) -> list[SourceChunk]:
        spec = spec_for(None, path)
        parser = new_parser(spec)  # one per call: parsers are not thread-safe
        if spec is None or parser is None:
            return chunk_lines(text.split("\n"), path, self.max_lines)
        tree = parser.parse(text.encode("utf-8", "surrogatepass"))
        return chunk_tree(tree, text, spec, path, self.max_lines)
