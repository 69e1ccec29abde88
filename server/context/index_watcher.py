"""Keep a :class:`WorkspaceIndex` fresh from file-system events (watchdog).

Editors save in bursts (write temp file, rename, touch), formatters rewrite whole trees,
``git checkout`` changes hundreds of files at once. Events are therefore only collected
by the observer thread; a worker applies them after ``debounce_s`` of quiet, each path
once, with its latest fate (update or remove).
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from ghostwright.server.context.workspace_files import SKIP_DIRS
from ghostwright.server.context.workspace_index import WorkspaceIndex

log = logging.getLogger(__name__)


class IndexWatcher(FileSystemEventHandler):
    """Watches the index root recursively; ``start()`` / ``stop()``, both idempotent."""

    def __init__(self, index: WorkspaceIndex, *, debounce_s: float = 0.3) -> None:
        self.index = index
        self.debounce_s = debounce_s
        self._pending: dict[str, str] = {}  # path -> "update" | "remove" | "rescan"
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._observer: Observer | None = None  # type: ignore[valid-type]
        self._worker: threading.Thread | None = None

    def start(self) -> None:
        if self._observer is not None:
            return
        self._observer = Observer()
        self._observer.schedule(self, str(self.index.root), recursive=True)
        self._observer.daemon = True
        self._observer.start()
        self._worker = threading.Thread(target=self._run, name="ghostwright-watch", daemon=True)
        self._worker.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the observer and the worker; pending events are dropped."""
        self._stopped.set()
        self._wake.set()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout)
        if self._worker is not None:
            self._worker.join(timeout)

    def flush(self) -> None:
        """Apply pending events now (the worker does this after the debounce)."""
        with self._lock:
            batch, self._pending = self._pending, {}
        for path, action in batch.items():
            try:
                if action == "remove":
                    self.index.remove_path(path)
                elif action == "rescan":
                    self.index.remove_path(path)
                    if not self.index.rules.path_ignored(self.index.relative_path(path) or ""):
                        self.index.scan(start=Path(path))
                else:
                    self.index.update_file(path)
            except Exception:  # one bad file must not stop the watcher
                log.exception("index: could not apply %s to %s", action, path)

    def on_any_event(self, event: FileSystemEvent) -> None:
        kind = event.event_type
        if kind not in ("created", "modified", "deleted", "moved", "closed"):
            return
        src = _as_str(event.src_path)
        if kind == "moved":
            self._note(src, "remove")
            self._note(_as_str(event.dest_path), "rescan" if event.is_directory else "update")
        elif kind == "deleted":
            self._note(src, "remove")
        elif event.is_directory:
            if kind == "created":
                self._note(src, "rescan")
        else:
            self._note(src, "update")

    def _note(self, path: str, action: str) -> None:
        relative = os.path.relpath(path, self.index.root)
        if relative.startswith("..") or SKIP_DIRS.intersection(Path(relative).parts):
            return
        with self._lock:
            if self._pending.get(path) != "rescan" or action == "remove":
                self._pending[path] = action
        self._wake.set()

    def _run(self) -> None:
        while not self._stopped.is_set():
            self._wake.wait()
            # Debounce: wait until no event arrived for debounce_s.
            while not self._stopped.is_set():
                self._wake.clear()
                if not self._wake.wait(self.debounce_s):
                    break
            if not self._stopped.is_set():
                self.flush()


def _as_str(path: str | bytes) -> str:
    return path.decode() if isinstance(path, bytes) else path
