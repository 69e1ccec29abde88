"""LSP work-done progress for long model calls: begin, report, end, and cancel from the client.

    async with WorkProgress(server, "Implementing is_even", token=params.work_done_token) as progress:
        progress.report("sampling 2/4", percentage=50)   # thread-safe: call it from a decode thread
        if progress.cancelled: ...
        progress.cancel_token                              # hand it to GenerationRequest.cancel

Why a wrapper: code actions, hover and ask all decode for seconds, and the editor should show that
and offer a cancel button. A client-given token (``workDoneToken``) is used as is; otherwise one is
created with ``window/workDoneProgress/create`` when the client supports it. A client that supports
neither simply sees no progress: the work itself never depends on it. The client's
``window/workDoneProgress/cancel`` sets :attr:`cancel_token`, which stops the engine within one step.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from types import TracebackType

from lsprotocol import types

from ghostwright.inference.api import CancelToken

log = logging.getLogger(__name__)

CREATE_TIMEOUT_S = 5.0


def client_supports_progress(server) -> bool:
    """True when the client said it handles server-created work-done progress."""
    try:
        caps = server.client_capabilities
    except AttributeError:
        return False
    window = getattr(caps, "window", None) if caps is not None else None
    return bool(window and window.work_done_progress)


class WorkProgress:
    def __init__(self, server, title: str, *, token: types.ProgressToken | None = None,
                 cancellable: bool = True, cancel_token: CancelToken | None = None) -> None:
        self.server = server
        self.title = title
        self.token = token
        self.cancellable = cancellable
        self.cancel_token = cancel_token or CancelToken()
        self.reports: list[str] = []  # what was reported, for logs and tests
        self._loop: asyncio.AbstractEventLoop | None = None
        self._active = False

    @property
    def cancelled(self) -> bool:
        return self.cancel_token.cancelled

    @property
    def active(self) -> bool:
        """True while begin has been sent and end has not."""
        return self._active

    async def __aenter__(self) -> WorkProgress:
        await self.begin()
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        if kind is asyncio.CancelledError:
            self.cancel_token.cancel()
            self.end("cancelled")
        elif exc is not None:
            self.end(f"failed: {exc}")
        else:
            self.end()

    async def begin(self, message: str | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        progress = self.server.work_done_progress
        if self.token is None and client_supports_progress(self.server):
            token = f"ghostwright/{uuid.uuid4().hex}"
            try:
                await asyncio.wait_for(progress.create_async(token), CREATE_TIMEOUT_S)
                self.token = token
            except Exception as exc:  # the client refused or never answered: work on without progress
                log.info("work-done progress not created (%s): %s", self.title, exc)
        if self.token is None:
            return
        progress.begin(self.token, types.WorkDoneProgressBegin(
            title=self.title, cancellable=self.cancellable, message=message, percentage=0))
        self._active = True
        future = progress.tokens.get(self.token)
        if future is not None:  # cancelled when the client sends window/workDoneProgress/cancel
            future.add_done_callback(lambda f: self._on_client_cancel() if f.cancelled() else None)

    def _on_client_cancel(self) -> None:
        log.info("%s: cancelled from the client's progress", self.title)
        self.cancel_token.cancel()

    def report(self, message: str, percentage: int | None = None) -> None:
        """Send a report; safe from any thread."""
        self.reports.append(message)
        if not self._active or self.token is None:
            return
        value = types.WorkDoneProgressReport(message=message, cancellable=self.cancellable,
                                             percentage=None if percentage is None else max(0, min(100, percentage)))
        self._call(self.server.work_done_progress.report, self.token, value)

    def end(self, message: str | None = None) -> None:
        if not self._active or self.token is None:
            return
        self._active = False
        self._call(self.server.work_done_progress.end, self.token, types.WorkDoneProgressEnd(message=message))
        self.server.work_done_progress.tokens.pop(self.token, None)

    def _call(self, function, *args) -> None:
        loop = self._loop
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if loop is not None and running is not loop:
            loop.call_soon_threadsafe(function, *args)
        else:
            function(*args)
