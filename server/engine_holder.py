"""Load the engine off the event loop and hand it to whoever waits.

The editor gets its `initialize` answer at once; the model loads in a thread. A load
that fails is remembered with its message so every request can say why. A settings change
that names another model, device or backend loads the new engine beside the old one, which
keeps answering until the new one is ready (a failed reload keeps the old one).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable

from ghostwright.errors import EngineError, GhostwrightError
from ghostwright.inference.api import Engine

log = logging.getLogger(__name__)


class EngineHolder:
    def __init__(self, factory: Callable[[], Engine]) -> None:
        self._factory = factory
        self._engine: Engine | None = None
        self._error: str | None = None
        self._ready = threading.Event()
        self._started = False
        self._lock = threading.Lock()
        self._generation = 0  # bumped by each reload; a superseded reload discards its engine

    def start(self) -> None:
        with self._lock:
            if self._started:
                return
            self._started = True
        threading.Thread(target=self._load, name="ghostwright-engine-load", daemon=True).start()

    def _load(self) -> None:
        try:
            self._engine = self._factory()
        except GhostwrightError as exc:
            self._error = str(exc)
            log.error("model failed to load: %s", exc)
        except Exception as exc:
            self._error = f"unexpected error while loading the model: {exc}"
            log.exception("model failed to load")
        finally:
            self._ready.set()

    def reload(self, on_done: Callable[[str | None], None]) -> None:
        """Load a new engine from the factory (it reads the current settings) and swap it in;
        ``on_done(None)`` once it serves, or ``on_done(reason)`` if it failed."""
        with self._lock:
            if not self._started:
                return  # the first load has not begun: it will read the new settings itself
            self._generation += 1
            generation = self._generation
        threading.Thread(target=self._reload, args=(generation, on_done), name="ghostwright-engine-reload",
                         daemon=True).start()

    def _reload(self, generation: int, on_done: Callable[[str | None], None]) -> None:
        self._ready.wait()  # the first load finishes (or fails) before its replacement starts
        try:
            engine = self._factory()
        except Exception as exc:
            log.error("reloading the model failed: %s", exc)
            on_done(str(exc) if isinstance(exc, GhostwrightError) else f"unexpected error: {exc}")
            return
        with self._lock:
            if generation != self._generation:
                stale, old = engine, None
            else:
                stale, (old, self._engine, self._error) = None, (self._engine, engine, None)
        for dropped in (stale, old):
            if dropped is not None:
                dropped.close()
        if stale is None:
            on_done(None)

    @property
    def error(self) -> str | None:
        return self._error

    @property
    def engine(self) -> Engine | None:
        return self._engine

    async def get(self, timeout: float = 120.0) -> Engine:
        self.start()
        if not self._ready.is_set():
            ready = await asyncio.to_thread(self._ready.wait, timeout)
            if not ready:
                raise EngineError("the model is still loading")
        if self._engine is None:
            raise EngineError(self._error or "the model is not loaded")
        return self._engine

    def close(self, load_timeout: float = 30.0) -> None:
        # A load still in flight is waited for: exiting while its thread builds ONNX Runtime sessions kills
        # the process with SIGABRT ("terminate called without an active exception"), so an editor that
        # stops the server right after starting it saw a crash, not exit code 0.
        if self._started:
            self._ready.wait(load_timeout)
        if self._engine is not None:
            self._engine.close()
