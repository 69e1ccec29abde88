"""The one boundary where Ghostwright errors become LSP errors.

Handlers raise :class:`ghostwright.errors.GhostwrightError` subclasses; ``lsp_boundary``
turns them into JSON-RPC errors with the message intact, so an editor shows
"line 57 is past the end of the document (40 lines)", not a traceback. ``follow_cancellation``
ties a handler to its request so that ``$/cancelRequest`` reaches the work it started.

Every request gets an answer, even one whose params cannot be parsed: pygls deserializes a
message before it dispatches it, and when a request's params do not fit its type it logs the
error and moves on, so the editor's request would hang until its own timeout.
:class:`AnsweringProtocol` keeps such a request as what it is (an id, a method, the reason) and
answers it with InvalidParams (-32602), as the JSON-RPC spec asks. A body that is not JSON is
answered with ParseError (-32700) and one that is JSON but no request (a batch, a bare value, no
``"jsonrpc": "2.0"``, a method that is not a string) with InvalidRequest (-32600): with the
request's id where one can be read, else null, as the spec says.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from lsprotocol.types import ResponseError
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams, JsonRpcInvalidRequest, JsonRpcParseError
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
        if "jsonrpc" in data and "method" in data and not isinstance(data["method"], str):
            return UnparsableRequest(_request_id(data), repr(data["method"]),
                                     JsonRpcInvalidRequest("the method is not a string"))
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if "method" not in data or "id" not in data:
                raise  # a notification or a response: nothing to answer
            return UnparsableRequest(_request_id(data), str(data.get("method")), exc)

    def handle_message(self, message: Any) -> None:
        if isinstance(message, UnparsableRequest):
            kind = "params" if isinstance(message.error, JsonRpcInvalidParams) else "request"
            self.answer_error(message.id, message.error, f"{message.method}: invalid {kind} ({_cause(message.error)})")
        elif not hasattr(message, "jsonrpc"):  # the top-level value: a list, a bare value, a dict without "jsonrpc"
            if not _is_response(message):
                msg_id = _request_id(message) if isinstance(message, dict) else None
                self.answer_error(msg_id, JsonRpcInvalidRequest(), f"not a JSON-RPC 2.0 request: {_kind(message)}")
        elif message.jsonrpc != self.VERSION and getattr(message, "method", None) and hasattr(message, "id"):
            self.answer_error(message.id, JsonRpcInvalidRequest(), f'"jsonrpc" is {message.jsonrpc!r}, not "2.0"')
        else:
            super().handle_message(message)

    def _execute_handler(self, msg_id: Any, handler: Any, callback: Any, args: Any = None, kwargs: Any = None) -> None:
        """Forget a notification's future once it is done, as pygls does a request's on answering it.

        pygls files the future of every coroutine, threaded or generator handler under its id, and
        drops it only when it sends a response; a notification has none, so each didChange (its
        built-in handler is a generator) left a future and a made-up id behind: ~1 KB a keystroke.
        """
        super()._execute_handler(msg_id, handler, callback, args, kwargs)
        if callback != self._check_handler_result:  # a request: answering it forgets it
            return
        future = self._request_futures.get(msg_id)
        if future is None:
            return
        if future.done():
            self._request_futures.pop(msg_id, None)
        else:
            future.add_done_callback(lambda _: self._request_futures.pop(msg_id, None))

    def answer_parse_error(self, error: ValueError) -> None:
        """A body that is not JSON (or not UTF-8): its id cannot be read, so the answer's is null."""
        self.answer_error(None, JsonRpcParseError(), f"the message is not JSON ({error})")

    def answer_error(self, msg_id: int | str | None, error: JsonRpcException, reason: str) -> None:
        log.warning("answering request %r with an error: %s", msg_id, reason)
        if msg_id is None:  # pygls' converter would drop the null id, which JSON-RPC requires be present
            self._send_data({"jsonrpc": self.VERSION, "id": None, "error": {"code": error.code, "message": reason}})
        else:
            self._send_response(msg_id, error=ResponseError(code=error.code, message=reason))


def _request_id(data: dict[str, Any]) -> int | str | None:
    msg_id = data.get("id")
    return msg_id if isinstance(msg_id, (int, str)) and not isinstance(msg_id, bool) else None


def _is_response(value: Any) -> bool:
    """A response is never answered, even a malformed one."""
    return isinstance(value, dict) and "method" not in value and ("result" in value or "error" in value)


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a batch (LSP has none)" if value else "an empty list"
    if isinstance(value, dict):
        return 'an object without "jsonrpc"'
    return f"a bare {type(value).__name__}"


def _cause(error: BaseException) -> str:
    """The first line of what the deserializer said, without the traceback."""
    cause = error.__cause__ or error
    text = str(cause).strip().splitlines()
    return text[0] if text else type(cause).__name__
