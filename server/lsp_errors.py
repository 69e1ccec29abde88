"""The one boundary where Ghostwright errors become LSP errors.

Handlers raise :class:`ghostwright.errors.GhostwrightError` subclasses; ``lsp_boundary``
turns them into JSON-RPC errors with the message intact, so an editor shows
"line 57 is past the end of the document (40 lines)", not a traceback. ``follow_cancellation``
ties a handler to its request so that ``$/cancelRequest`` reaches the work it started.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from ghostwright.errors import GhostwrightError, RequestError

log = logging.getLogger(__name__)

T = TypeVar("T")


class JsonRpcRequestFailed(JsonRpcException):
    """LSP's RequestFailed (-32803): valid request, the server could not do it."""

    CODE = -32803


def to_lsp_error(exc: GhostwrightError) -> JsonRpcException:
    if isinstance(exc, RequestError):
        return JsonRpcInvalidParams(str(exc))
    return JsonRpcRequestFailed(str(exc))


def lsp_boundary(handler: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
    @functools.wraps(handler)
    async def wrapped(*args: Any, **kwargs: Any) -> T:
        try:
            return await handler(*args, **kwargs)
        except GhostwrightError as exc:
            log.info("%s: %s", handler.__name__, exc)
            raise to_lsp_error(exc) from exc

    return wrapped


def follow_cancellation(protocol: Any, msg_id: Any) -> None:
    """Cancel this handler's task when the client cancels its request.

    pygls 2 runs executeCommand handlers behind a generator under an id of their own, so
    ``$/cancelRequest`` cancels only the outer request's future and the handler would
    decode on; tying the running task to that future makes the cancel reach the engine.
    """
    outer = getattr(protocol, "_request_futures", {}).get(msg_id)
    task, loop = asyncio.current_task(), asyncio.get_running_loop()
    if outer is None or task is None:
        return
    outer.add_done_callback(lambda done: loop.call_soon_threadsafe(task.cancel) if done.cancelled() else None)
