"""Every JSON-RPC request gets an answer, even one whose params cannot be parsed.

pygls deserializes a message before it dispatches it; when a request's params do not fit
its type, the error is logged and the loop moves on, so the editor's request hangs until
its own timeout. Here such a request is kept as what it is (an id, a method, the reason)
and answered with InvalidParams (-32602), as the JSON-RPC spec asks.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from lsprotocol.types import ResponseError
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.protocol import LanguageServerProtocol

log = logging.getLogger(__name__)


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
