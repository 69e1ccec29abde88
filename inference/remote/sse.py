"""Server-sent events as OpenAI streams them: ``data: {json}`` lines, ending ``data: [DONE]``."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from ghostwright.errors import EngineError

DONE = object()


async def events(lines: AsyncIterator[str]) -> AsyncIterator[Any]:
    """Each event's JSON payload, then :data:`DONE` if the server said so. Comments and other
    fields (``event:``, ``id:``) are skipped; a payload that is not JSON is the server's error."""
    async for line in lines:
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            yield DONE
            return
        try:
            yield json.loads(data)
        except json.JSONDecodeError as exc:
            raise EngineError(f"the backend sent an event that is not JSON: {data[:200]!r}") from exc


def error_message(payload: Any) -> str | None:
    """The message of an error object, in the shapes vLLM, llama-server and we send."""
    if isinstance(payload, dict) and "error" in payload:
        err = payload["error"]
        if isinstance(err, dict):
            return str(err.get("message") or err)
        return str(err)
    return None
