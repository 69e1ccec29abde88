"""A symbol index of the workspace: top-level definitions of every source file, by name.

Built by a background thread within a time budget, so a huge monorepo gives a partial
index instead of a stalled server, and kept fresh by :class:`IndexWatcher` (see
``index_watcher.py``). Reads take a lock only for dictionary lookups; parsing happens
outside it, so a completion never waits for indexing.

    index = WorkspaceIndex(root)
    index.start()                      # returns at once
    index.lookup(["helper", "Config"]) # whatever is indexed so far
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from ghostwright.server.context.definitions import Definition, extract_definitions
from ghostwright.server.context.languages import new_parser, spec_for
from ghostwright.server.context.similar_code import Match, SimilarCode
from ghostwright.server.context.workspace_files import DEFAULT_MAX_FILE_BYTES, IgnoreRules, indexable, iter_files

log = logging.getLogger(__name__)

PER_FILE_BUDGET_S = 0.5  # stop extracting from one pathological file after this long


class WorkspaceIndex:
    """Definitions by file and by name, for one workspace root. Thread-safe."""

    def __init__(
        self, root: str | Path, *, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
        scan_budget_s: float = 20.0,
    ) -> None:
        self.root = Path(root).resolve()
        self.max_file_bytes = max_file_bytes
        self.scan_budget_s = scan_budget_s
        self.rules = IgnoreRules(self.root)
        self.complete = False  # the initial scan finished within its budget
        self._by_path: dict[str, list[Definition]] = {}
        self._by_name: dict[str, list[Definition]] = {}
        self.similar = SimilarCode()  # windows of every indexed file, for similar-code context
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._scanned = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Scan in a daemon thread; returns at once."""
        if self._thread is None:
            self._thread = threading.Thread(target=self.scan, name="ghostwright-index", daemon=True)
            self._thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the initial scan ended (tests and tools); True if it did."""
        return self._scanned.wait(timeout)

    def stop(self) -> None:
        """Ask a running scan to stop soon."""
        self._stop.set()

    def scan(self, start: Path | None = None) -> int:
        """Index every indexable file (under ``start``); returns the number of files read."""
        began, count = time.monotonic(), 0
        try:
            for path, relative in iter_files(self.root, self.rules, start=start,
                                             max_bytes=self.max_file_bytes, stop=self._stop):
                if time.monotonic() - began > self.scan_budget_s:
                    log.warning("index: scan budget of %.0fs spent after %d files; index is "
                                "partial", self.scan_budget_s, count)
                    return count
                self._index(path, relative)
                count += 1
            self.complete = start is None and not self._stop.is_set()
            return count
        finally:
            if start is None:
                log.info("index: %d files in %.2fs", count, time.monotonic() - began)
                self._scanned.set()

    def update_file(self, path: str | Path) -> None:
        """Re-read one file after a change; forget it if it is gone or no longer indexable."""
        relative = self.relative_path(path)
        if relative is None:
            return
        absolute = self.root / relative
        if absolute.name == ".gitignore":
            self.rules.invalidate()
        if indexable(absolute, relative, self.rules, self.max_file_bytes):
            self._index(absolute, relative)
        else:
            self._forget(relative)

    def remove_path(self, path: str | Path) -> None:
        """Forget a deleted file, or every file under a deleted directory."""
        relative = self.relative_path(path)
        if relative is None:
            return
        with self._lock:
            doomed = [p for p in self._by_path if p == relative or p.startswith(relative + "/")]
        for gone in doomed:
            self._forget(gone)

    def lookup(self, names: Iterable[str]) -> list[Definition]:
        """Definitions of ``names``, in the order the names were given."""
        with self._lock:
            found = [sorted(self._by_name.get(name, ()), key=lambda d: (d.path, d.line))
                     for name in dict.fromkeys(names)]
        return [definition for same in found for definition in same]

    def similar_to(self, code: str, *, exclude: str | None = None, limit: int = 2) -> list[Match]:
        """Windows of other indexed files whose identifiers overlap ``code``'s most (best first)."""
        return self.similar.query(code, exclude=exclude, limit=limit)

    def indexed_paths(self) -> list[str]:
        """Workspace-relative paths of the files indexed so far (for status reports)."""
        with self._lock:
            return list(self._by_path)

    def definitions_in(self, path: str | Path) -> list[Definition]:
        """Definitions of one file, by absolute or workspace-relative path."""
        relative = self.relative_path(path)
        with self._lock:
            return list(self._by_path.get(relative or "", ()))

    def relative_path(self, path: str | Path) -> str | None:
        """"/"-separated path from the root, or None for a path outside the workspace."""
        candidate = Path(path)
        if not candidate.is_absolute():
            return candidate.as_posix()
        # Resolve the folders only, not the file itself: a file turned into a symlink (dangling, looping or
        # pointing elsewhere) must still name its own index entry, so the update that finds it no longer
        # indexable drops that entry. Resolving the link named its target instead (the stale entry stayed)
        # or, for a loop, raised RuntimeError out of the watcher.
        try:
            return (candidate.parent.resolve() / candidate.name).relative_to(self.root).as_posix()
        except (ValueError, RuntimeError, OSError):  # outside the root; a looping parent folder
            return None

    def _index(self, path: Path, relative: str) -> None:
        spec = spec_for(None, relative)
        parser = new_parser(spec)
        if spec is None or parser is None:
            return
        try:
            source = path.read_bytes()
        except OSError:
            self._forget(relative)
            return
        deadline = time.monotonic() + PER_FILE_BUDGET_S
        tree = parser.parse(source)
        self._store(relative, extract_definitions(tree, source, spec, relative, deadline))
        self.similar.update(relative, source.decode("utf-8", "replace"))

    def _forget(self, relative: str) -> None:
        self._store(relative, [])
        self.similar.remove(relative)

    def _store(self, relative: str, definitions: list[Definition]) -> None:
        with self._lock:
            for old in self._by_path.pop(relative, ()):
                same = self._by_name.get(old.name, [])
                same[:] = [d for d in same if d.path != relative]
                if not same:
                    self._by_name.pop(old.name, None)
            if definitions:
                self._by_path[relative] = definitions
                for definition in definitions:
                    self._by_name.setdefault(definition.name, []).append(definition)
