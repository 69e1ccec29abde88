"""The prompt kinds of :mod:`ghostwright.inference.api` as JSON, both ways.

A Ghostwright engine server renders each request in the format of the tier that runs it
(tiers may be different models with different tokenizers), so a client sends it what the
completion wants, not a rendered string: the ``ghostwright`` object of a ``/v1/completions``
body. Plain OpenAI servers never see this; they get rendered text or token ids.
"""

from __future__ import annotations

from typing import Any

from ghostwright.errors import RequestError
from ghostwright.inference.api import AnyPrompt, ChatPrompt, InfillPrompt, Prompt, Snippet


def prompt_to_json(prompt: AnyPrompt) -> dict[str, Any]:
    if isinstance(prompt, InfillPrompt):
        return {"infill": {"prefix": prompt.prefix, "suffix": prompt.suffix, "path": prompt.path,
                           "language": prompt.language, "comment": prompt.comment, "repo": prompt.repo,
                           "snippets": [{"path": s.path, "text": s.text} for s in prompt.snippets]}}
    if isinstance(prompt, ChatPrompt):
        return {"chat": {"messages": [{"role": r, "content": c} for r, c in prompt.messages],
                         "prefill": prompt.prefill, "add_generation_prompt": prompt.add_generation_prompt}}
    return {"segments": list(prompt.segments)}


def _str(obj: dict[str, Any], key: str, where: str, default: str | None = "") -> Any:
    value = obj.get(key, default)
    if value is None and default is None:
        return None
    if not isinstance(value, str):
        raise RequestError(f"{where}.{key} must be a string")
    return value


def prompt_from_json(obj: Any) -> AnyPrompt:
    """A prompt from a ``ghostwright`` object; :class:`RequestError` names the bad field."""
    if not isinstance(obj, dict) or len(obj.keys() & {"infill", "chat", "segments"}) != 1:
        raise RequestError("ghostwright must be an object with one of infill, chat or segments")
    if "infill" in obj:
        f = obj["infill"]
        if not isinstance(f, dict):
            raise RequestError("ghostwright.infill must be an object")
        snippets = f.get("snippets", [])
        if not isinstance(snippets, list) or not all(isinstance(s, dict) for s in snippets):
            raise RequestError("ghostwright.infill.snippets must be a list of {path, text}")
        return InfillPrompt(
            prefix=_str(f, "prefix", "ghostwright.infill"), suffix=_str(f, "suffix", "ghostwright.infill"),
            path=_str(f, "path", "ghostwright.infill"), language=_str(f, "language", "ghostwright.infill"),
            comment=_str(f, "comment", "ghostwright.infill", None), repo=_str(f, "repo", "ghostwright.infill"),
            snippets=tuple(Snippet(_str(s, "path", "snippet"), _str(s, "text", "snippet")) for s in snippets))
    if "chat" in obj:
        c = obj["chat"]
        if not isinstance(c, dict) or not isinstance(c.get("messages"), list):
            raise RequestError("ghostwright.chat.messages must be a list")
        messages = chat_messages(c["messages"], "ghostwright.chat.messages")
        add = c.get("add_generation_prompt", True)
        if not isinstance(add, bool):
            raise RequestError("ghostwright.chat.add_generation_prompt must be true or false")
        return ChatPrompt(messages, _str(c, "prefill", "ghostwright.chat"), add)
    segments = obj["segments"]
    if not isinstance(segments, list) or not all(isinstance(s, (str, int)) and not isinstance(s, bool)
                                                 for s in segments):
        raise RequestError("ghostwright.segments must be a list of strings and token ids")
    return Prompt(tuple(segments))


def chat_messages(raw: list[Any], where: str = "messages") -> tuple[tuple[str, str], ...]:
    out = []
    for i, m in enumerate(raw):
        if not isinstance(m, dict) or not isinstance(m.get("role"), str) or not isinstance(m.get("content"), str):
            raise RequestError(f"{where}[{i}] must be {{role: string, content: string}}")
        if m["role"] not in ("system", "user", "assistant"):
            raise RequestError(f"{where}[{i}].role must be system, user or assistant")
        out.append((m["role"], m["content"]))
    if not out:
        raise RequestError(f"{where} must not be empty")
    return tuple(out)
