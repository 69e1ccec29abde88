"""Explain a hover target with the model, within a time budget, without ever delaying typing.

* Priority: explanations run at ``Priority.BACKGROUND``; the engine picks the most urgent
  job at every step (a prefill chunk or one token), so an inline completion requested
  meanwhile goes first and the hover waits.
* Budget: a hover answers within ``budget_s``. If the model has not finished by then,
  the hover shows the signature and whatever text has been decoded, and says so; the
  generation goes on in the background (up to ``BACKGROUND_LIMIT_S``) and its result is
  cached, so hovering again shows the whole explanation. A newer hover supersedes an
  older one's background work (one explanation decodes at a time).
* Cache: by the content hash of the definition plus the AGENTS.md text in the prompt,
  so an edit elsewhere keeps the explanation and an edit to the definition replaces it.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import time
from collections import OrderedDict
from dataclasses import dataclass

from ghostwright.errors import GhostwrightError
from ghostwright.inference.api import CancelToken, FinishReason, Priority
from ghostwright.server.chat_runner import run_chat
from ghostwright.server.context.secrets import redact
from ghostwright.server.hover.target import HoverTarget
from ghostwright.server.prompt_trace import write_trace
from ghostwright.server.repetition import cut_repetition

log = logging.getLogger(__name__)

DEFAULT_BUDGET_MS = 5000  # override with GHOSTWRIGHT_HOVER_BUDGET_MS
BACKGROUND_LIMIT_S = 30.0  # an explanation still decoding after this is given up
MAX_TOKENS = 64
CACHE_SIZE = 512
INSTRUCTION_CHARS = 800  # AGENTS.md text in a hover prompt: a small model needs the code more
SESSION_KEY = "ghostwright/hover"
SYSTEM = "You explain code in one or two short sentences."
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass
class Explanation:
    text: str  # plain-language explanation ("" when none)
    state: str  # cache | model | partial | unavailable
    note: str = ""  # why it is partial or missing, for the user


def budget_from_env() -> float:
    """The hover budget in seconds (``GHOSTWRIGHT_HOVER_BUDGET_MS``, default 5000)."""
    raw = os.environ.get("GHOSTWRIGHT_HOVER_BUDGET_MS", "")
    try:
        value = int(raw) if raw else DEFAULT_BUDGET_MS
    except ValueError:
        log.warning("GHOSTWRIGHT_HOVER_BUDGET_MS=%r is not an integer; using %d", raw, DEFAULT_BUDGET_MS)
        value = DEFAULT_BUDGET_MS
    return max(1, value) / 1000


def hover_messages(target: HoverTarget, instructions: str) -> tuple[list[dict[str, str]], str]:
    """(chat messages, assistant prefill) asking for a short explanation of ``target``."""
    system = SYSTEM + (f"\n\n{instructions.strip()}" if instructions.strip() else "")
    language = target.language
    if target.kind == "parameter":
        question = f"What is the parameter `{target.name}` of this {language} function for?"
    else:
        question = f"What does the {language} {target.kind} `{target.name}` do?"
    code = redact(target.source)
    user = f"{question}\n```{language}\n{code}\n```"
    return [{"role": "system", "content": system}, {"role": "user", "content": user}], \
        f"The {target.kind} `{target.name}`"


def tidy(text: str, max_sentences: int = 3) -> str:
    """At most a few sentences, no code fences, no repetition; a cut-off tail is kept (it is marked partial)."""
    text = text.split("```")[0].strip()
    cut = cut_repetition(text)
    text = text if cut is None else cut
    sentences = _SENTENCE_END.split(text)
    return " ".join(sentences[:max_sentences]).strip()


def whole_sentences(text: str) -> str:
    """Drop a sentence the token limit cut off, when a whole one comes before it."""
    if text.endswith((".", "!", "?", ")")):
        return text
    end = max(text.rfind(". "), text.rfind("! "), text.rfind("? "))
    return text[: end + 1] if end > 0 else text


class HoverService:
    def __init__(self, server, budget_s: float | None = None) -> None:
        self.server = server
        self.budget_s = budget_s if budget_s is not None else budget_from_env()
        self._cache: OrderedDict[str, str] = OrderedDict()
        self._tasks: dict[str, asyncio.Task[str | None]] = {}
        self._partial: dict[str, str] = {}
        self.model_calls = 0
        self.cache_hits = 0

    async def explain(self, target: HoverTarget, instructions: str, request_id: str = "") -> Explanation:
        key = hashlib.sha256(f"{target.key}\0{instructions}".encode()).hexdigest()
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            self.cache_hits += 1
            return Explanation(cached, "cache")
        task = self._tasks.get(key)
        if task is None or task.done():
            task = asyncio.create_task(self._generate(key, target, instructions, request_id))
            self._tasks[key] = task
            task.add_done_callback(lambda done, key=key: self._forget(key, done))
        try:
            text = await asyncio.wait_for(asyncio.shield(task), self.budget_s)
        except TimeoutError:
            partial = tidy(self._partial.get(key, ""))
            seconds = f"{self.budget_s:g} s"
            if partial:
                return Explanation(partial, "partial", f"cut short: the {seconds} budget ran out; hover again "
                                                       "for the rest")
            return Explanation("", "unavailable", f"no explanation within {seconds} (the model is busy or "
                                                  "loading); hover again shortly")
        except GhostwrightError as exc:
            return Explanation("", "unavailable", f"no explanation: {exc}")
        if text is None:
            return Explanation(tidy(self._partial.get(key, "")), "unavailable",
                               "the explanation was stopped (a newer hover replaced it)")
        return Explanation(text, "model")

    def _forget(self, key: str, task: asyncio.Task[str | None]) -> None:
        if self._tasks.get(key) is task:
            del self._tasks[key]
        self._partial.pop(key, None)
        if not task.cancelled() and task.exception() is not None:
            log.info("hover explanation failed: %s", task.exception())

    async def _generate(self, key: str, target: HoverTarget, instructions: str, request_id: str) -> str | None:
        messages, prefill = hover_messages(target, instructions)
        self._partial[key] = ""

        looped = CancelToken()

        def on_text(text: str) -> None:  # from the decode thread: a plain dict store is enough
            self._partial[key] = prefill + text
            if cut_repetition(text) is not None:  # it started over: what came before is the explanation
                looped.cancel()

        self.model_calls += 1
        started = time.monotonic()
        result = await run_chat(self.server, messages, max_tokens=MAX_TOKENS, priority=Priority.BACKGROUND,
                                stop=["\n\n", "```"], deadline_s=BACKGROUND_LIMIT_S, on_text=on_text,
                                cancel=looped, session_key=SESSION_KEY, request_id=f"hover/{request_id}",
                                prefill=prefill)
        if looped.cancelled and result.finish == FinishReason.CANCELLED:
            result.finish = FinishReason.STOP
        latency_ms = (time.monotonic() - started) * 1e3
        write_trace("hover", messages, result.text, latency_ms, prefill=prefill,
                    finish=result.finish.value if result.finish else None)
        if not result.ok or not result.text.strip():
            log.info("hover %s: no explanation (%s)", request_id, result.error or result.finish)
            return None
        text = whole_sentences(tidy(prefill + result.text))
        self._cache[key] = text
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return text
