"""A remote engine that comes back: reconnect when the backend went away, fall back when told.

The engine server restarting under a running editor must not need a restart of the editor:
when a request fails because the backend is unreachable (and has produced no text yet), this
engine reconnects (``connect`` may start the backend again: the shared daemon does) and, if
that fails and a fallback is configured, runs the request on the local model. Failures are
remembered so the editor shows one clear message, not one per keystroke.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from ghostwright.errors import GhostwrightError
from ghostwright.inference.api import ChatPrompt, Chunk, Engine, FinishReason, GenerationRequest, ModelInfo

log = logging.getLogger(__name__)

RETRY_S = 5.0  # at most one reconnect attempt this often


def _unreachable(chunk: Chunk) -> bool:
    return chunk.finish == FinishReason.ERROR and "not reachable" in (chunk.error or "")


class FailoverEngine:
    def __init__(self, connect: Callable[[], Engine], fallback: Callable[[], Engine] | None = None,
                 first: Engine | None = None) -> None:
        self._connect, self._fallback_factory = connect, fallback
        self._remote: Engine | None = first
        self._fallback: Engine | None = None
        self._lock = threading.Lock()
        self._last_try = 0.0
        self.status = "connected" if first is not None else "disconnected"
        self.last_error: str | None = None
        if first is None:
            self._reconnect(force=True)

    def _reconnect(self, force: bool = False) -> Engine | None:
        with self._lock:
            if not force and time.monotonic() - self._last_try < RETRY_S:
                return self._remote
            self._last_try = time.monotonic()
            old, self._remote = self._remote, None
            if old is not None:
                try:
                    old.close()
                except Exception:
                    log.debug("closing the old connection failed", exc_info=True)
            try:
                self._remote = self._connect()
                self.status, self.last_error = "connected", None
                log.info("backend connected")
            except GhostwrightError as exc:
                self.status, self.last_error = "disconnected", str(exc)
                log.warning("backend unavailable: %s", exc)
            return self._remote

    def _local(self) -> Engine | None:
        if self._fallback_factory is None:
            return None
        with self._lock:
            if self._fallback is None:
                log.warning("the backend is down; loading the local model as the fallback")
                self._fallback = self._fallback_factory()
            return self._fallback

    def _current(self) -> Engine | None:
        return self._remote or self._reconnect()

    # -- the Engine protocol ---------------------------------------------------------
    def generate(self, request: GenerationRequest) -> Iterator[Chunk]:
        for attempt in range(2):
            remote = self._current()
            if remote is None:
                break
            held: list[Chunk] = []
            for chunk in remote.generate(request):
                if chunk.done and not held and _unreachable(chunk) and attempt == 0:
                    self.status, self.last_error = "disconnected", chunk.error
                    self._reconnect(force=False)
                    break
                held.append(chunk)
                if not _unreachable(chunk):
                    self.status, self.last_error = "connected", None  # it answered (httpx reconnects by itself)
                yield chunk
                if chunk.done:
                    return
            else:
                return
        local = self._local()
        if local is not None:
            self.status = "fallback"
            yield from local.generate(request)
            return
        message = self.last_error or "the backend is not reachable"
        yield Chunk("", done=True, finish=FinishReason.ERROR, error=message)

    def _any(self) -> Engine:
        engine = self._remote or self._fallback or self._reconnect() or self._local()
        if engine is None:
            raise GhostwrightError(self.last_error or "the backend is not reachable")
        return engine

    def count_tokens(self, text: str) -> int:
        return self._any().count_tokens(text)

    def chat_prompt(self, messages: list[dict[str, str]], add_generation_prompt: bool = True) -> ChatPrompt:
        return ChatPrompt(tuple((m["role"], m["content"]) for m in messages), "", add_generation_prompt)

    def info(self) -> ModelInfo:
        return self._any().info()

    def stats(self) -> dict[str, Any]:
        engine = self._remote or self._fallback
        out: dict[str, Any] = dict(engine.stats()) if engine is not None else {}
        out["connection"] = {"status": self.status, "last_error": self.last_error}
        return out

    def close(self) -> None:
        for engine in (self._remote, self._fallback):
            if engine is not None:
                engine.close()
