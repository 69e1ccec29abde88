"""A local JSONL trace of chat prompts and raw answers, for checking what reached the model.

Set ``GHOSTWRIGHT_TRACE_PROMPTS=/some/file.jsonl`` (as for completions, see
``completion/service.py``) and every hover, ask and code action appends one line: the feature, the
messages as sent (after redaction and AGENTS.md), the raw answer and the latency. Off by
default; nothing ever leaves the machine.
"""

from __future__ import annotations

import json
import os
import threading

_lock = threading.Lock()


def trace_path() -> str | None:
    """Where traces go, read at each call so a test can set it per server process."""
    return os.environ.get("GHOSTWRIGHT_TRACE_PROMPTS") or None


def write_trace(feature: str, messages: list[dict[str, str]], raw: str, latency_ms: float,
                **extra: object) -> None:
    """Append one JSON line when tracing is on; an unwritable file is not the user's problem."""
    path = trace_path()
    if not path:
        return
    record = {"feature": feature, "kind": feature, "messages": messages, "raw": raw,
              "latency_ms": round(latency_ms, 1), **extra}
    try:
        with _lock, open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
    except OSError:
        pass
