"""OpenAI request bodies -> :class:`GenerationRequest`, or a 400 that says which field is wrong.

Standard fields: ``model``, ``prompt`` (text, or a list of token ids), ``messages``,
``max_tokens``, ``temperature``, ``top_p``, ``seed``, ``stop``, ``stream``, ``n`` (must be 1).
Extras other servers also take: ``top_k``. Ghostwright's own, in a ``ghostwright`` object: the
prompt as the completion wants it (rendered per tier), ``priority``, ``tier``, ``session``
(a newer request of the same session supersedes), ``deadline_ms``, ``heal_last_token``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from ghostwright.errors import RequestError
from ghostwright.inference.api import (
    AnyPrompt,
    CancelToken,
    ChatPrompt,
    GenerationRequest,
    Priority,
    Prompt,
    SamplingParams,
)
from ghostwright.inference.remote.wire import chat_messages, prompt_from_json

MAX_STOPS = 16


@dataclass
class Parsed:
    request: GenerationRequest
    stream: bool
    model: str
    chat: bool


def _number(body: dict[str, Any], key: str, default: float, low: float, high: float) -> float:
    value = body.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise RequestError(f"{key} must be a number in [{low}, {high}]")
    return float(value)


def _int(body: dict[str, Any], key: str, default: int | None, low: int, high: int) -> int | None:
    value = body.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise RequestError(f"{key} must be an integer in [{low}, {high}]")
    return value


def parse(body: Any, *, chat: bool, models: tuple[str, ...], vocab_size: int, context: int) -> Parsed:
    if not isinstance(body, dict):
        raise RequestError("the request body must be a JSON object")
    model = body.get("model") or models[0]
    if not isinstance(model, str) or model not in models:
        raise RequestError(f"unknown model {model!r}; this engine serves {', '.join(models)}")
    if _int(body, "n", 1, 1, 1) != 1:
        raise RequestError("n must be 1")
    extra = body.get("ghostwright") or {}
    if not isinstance(extra, dict):
        raise RequestError("ghostwright must be an object")
    prompt: AnyPrompt
    if chat:
        raw = body.get("messages")
        if not isinstance(raw, list):
            raise RequestError("messages must be a list of {role, content}")
        prompt = ChatPrompt(chat_messages(raw))
    elif {"infill", "chat", "segments"} & extra.keys():
        prompt = prompt_from_json({k: extra[k] for k in ("infill", "chat", "segments") if k in extra})
    else:
        prompt = _openai_prompt(body.get("prompt"), vocab_size)
    if "suffix" in body and body["suffix"] not in (None, ""):
        raise RequestError("suffix is not supported: send the prompt in the model's own FIM format, "
                           "or a ghostwright.infill object")
    max_tokens = _int(body, "max_tokens", 16, 1, context)
    stop = body.get("stop") or []
    if isinstance(stop, str):
        stop = [stop]
    if not isinstance(stop, list) or not all(isinstance(s, str) and s for s in stop) or len(stop) > MAX_STOPS:
        raise RequestError(f"stop must be a string or a list of at most {MAX_STOPS} non-empty strings")
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise RequestError("stream must be true or false")
    sampling = SamplingParams(temperature=_number(body, "temperature", 1.0 if chat else 0.0, 0.0, 2.0),
                              top_p=_number(body, "top_p", 1.0, 1e-6, 1.0),
                              top_k=_int(body, "top_k", 0, 0, 1_000_000) or 0,
                              seed=_int(body, "seed", None, -(2**63), 2**63 - 1))
    priority = _int(extra, "priority", int(Priority.INTERACTIVE), int(Priority.INLINE), int(Priority.BACKGROUND))
    tier = extra.get("tier", "auto")
    if tier not in ("auto", "full", "mini"):
        raise RequestError("ghostwright.tier must be auto, full or mini")
    session = extra.get("session")
    if session is not None and not isinstance(session, str):
        raise RequestError("ghostwright.session must be a string")
    deadline_ms = _int(extra, "deadline_ms", None, 1, 600_000)
    heal = extra.get("heal_last_token", False)
    excludes = extra.get("first_token_excludes", [])
    if not isinstance(heal, bool) or not isinstance(excludes, list) or not all(isinstance(e, str) for e in excludes):
        raise RequestError("ghostwright.heal_last_token must be a boolean, first_token_excludes a list of strings")
    request = GenerationRequest(
        prompt=prompt, max_tokens=max_tokens or 16, sampling=sampling, stop=stop,
        deadline=time.monotonic() + deadline_ms / 1e3 if deadline_ms else None, cancel=CancelToken(),
        priority=Priority(priority), session_key=session, tier=tier, heal_last_token=heal,
        first_token_excludes=tuple(excludes))
    return Parsed(request, stream, model, chat)


def _openai_prompt(raw: Any, vocab_size: int) -> Prompt:
    if isinstance(raw, list) and len(raw) == 1 and isinstance(raw[0], (str, list)):
        raw = raw[0]  # a batch of one
    if isinstance(raw, str):
        if not raw:
            raise RequestError("prompt must not be empty")
        return Prompt.text(raw)
    if isinstance(raw, list) and raw and all(isinstance(i, int) and not isinstance(i, bool) for i in raw):
        bad = [i for i in raw if not 0 <= i < vocab_size]
        if bad:
            raise RequestError(f"prompt token id {bad[0]} is outside the vocabulary (0..{vocab_size - 1})")
        return Prompt.tokens(raw)
    raise RequestError("prompt must be a non-empty string or a list of token ids (one prompt per request)")
