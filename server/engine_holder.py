"""Load the engine off the event loop, once, and hand it to whoever waits.

The editor gets its `initialize` answer at once; the model loads in a thread. A load
that fails is remembered with its message so every request can say why.
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

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()
