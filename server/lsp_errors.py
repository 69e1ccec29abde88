"""The one boundary where Ghostwright errors become LSP errors.

Handlers raise :class:`ghostwright.errors.GhostwrightError` subclasses; ``lsp_boundary``
turns them into JSON-RPC errors with the message intact, so an editor shows
"line 57 is past the end of the document (40 lines)", not a traceback. ``follow_cancellation``
ties a handler to its request so that ``$/cancelRequest`` reaches the work it started.

Every request gets an answer, even one whose params cannot be parsed: pygls deserializes a
message before it dispatches it, and when a request's params do not fit its type it logs the
error and moves on, so the editor's request would hang until its own timeout.
:class:`AnsweringProtocol` keeps such a request as what it is (an id, a method, the reason) and
answers it with InvalidParams (-32602), as the JSON-RPC spec asks.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from lsprotocol.types import ResponseError
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.protocol import LanguageServerProtocol

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


@dataclass(frozen=True)
class UnparsableRequest:
    id: int | str | None
    method: str
    error: JsonRpcException
    jsonrpc: str = "2.0"


class AnsweringProtocol(LanguageServerProtocol):
    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if "method" not in data or "id" not in data:
                raise  # a notification or a response: nothing to answer
            msg_id = data["id"] if isinstance(data["id"], (int, str)) and not isinstance(data["id"], bool) else None
            return UnparsableRequest(msg_id, str(data.get("method")), exc)

    def handle_message(self, message: Any) -> None:
        if not isinstance(message, UnparsableRequest):
            super().handle_message(message)
            return
        kind = "params" if isinstance(message.error, JsonRpcInvalidParams) else "message"
        reason = f"{message.method}: invalid {kind} ({_cause(message.error)})"
        log.warning("answering request %r with an error: %s", message.id, reason)
        self._send_response(message.id, error=ResponseError(code=message.error.code, message=reason))


def _cause(error: BaseException) -> str:
    """The first line of what the deserializer said, without the traceback."""
    cause = error.__cause__ or error
    text = str(cause).strip().splitlines()
    return text[0] if text else type(cause).__name__
