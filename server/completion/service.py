"""From (document, position) to a cleaned suggestion: cache, debounce, prompt, engine, clean.

At most one model call per pause in typing: each request for a document bumps a
generation counter, waits out the debounce, and gives up if a newer one arrived; the
engine also supersedes by document. Typing what the last suggestion predicted is
answered from the typed-ahead cache without the model.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import re
import time
from dataclasses import dataclass

from ghostwright.inference.api import CancelToken, FinishReason, GenerationRequest, Priority
from ghostwright.server.completion.postprocess import clean_completion, clean_partial
from ghostwright.server.completion.prompt import build_completion_prompt, should_trigger
from ghostwright.server.completion.sticky_context import StickyContext
from ghostwright.server.completion.trigger import MULTI

log = logging.getLogger(__name__)

PARTIAL_NOTIFICATION = "ghostwright/partialCompletion"
SINGLE_LINE_MAX_TOKENS = 48
# A multi-line suggestion stops at the first line end this long after its first token (one that
# does not open a block) and shows the lines it has:
# Qwen2.5-Coder-0.5B on two cores decodes ~30 tokens a second, so 96 tokens of a block took up to
# the 2 s deadline, longer than a typist's pause (the in-package replay with 2 s pauses at new lines
# showed 11 of 19 pauses a suggestion; 8 were still decoding). The first lines are what the user
# reads first, and accepting them asks for the rest.
MULTI_LINE_SHOW_AFTER_S = 1.0


def worth_healing(prefix: str) -> bool:
    """Whether the prompt's last token is likely cut off, so the engine should re-choose it.

    A half-typed word, and the indentation of a fresh line: the model saw "\\n    " followed
    by "if", never a prompt that stops after the indentation, and left alone it "presses
    Enter" again or adds a fifth space.
    """
    if not prefix:
        return False
    line = prefix.rsplit("\n", 1)[-1]
    return prefix[-1].isalnum() or prefix[-1] == "_" or (line != "" and not line.strip())


def whole_lines_to_show(raw: str, chunk: str, shown: str, block_opener: str | None = None) -> str | None:
    """``raw`` up to its last line end, when the chunk just decoded ended a line and the cleaned
    text already has a line to show, not one that opens a block (``if n <= 1:`` alone would leave
    the code broken); else None (keep decoding)."""
    if "\n" not in chunk or not shown.strip():
        return None
    whole = raw[: raw.rfind("\n") + 1]
    last = next((line for line in reversed(whole.split("\n")) if line.strip()), "")
    if block_opener is not None and re.search(block_opener, last):
        return None
    return whole


@dataclass
class Suggestion:
    text: str
    offset: int  # str index in the document where it is inserted
    source: str  # model | cache
    latency_ms: float
    prompt_tokens: int = 0
    prefilled_tokens: int = 0


class CompletionService:
    def __init__(self, server) -> None:
        self.server = server
        self._generation: dict[str, int] = {}
        self.model_calls = 0  # started; some are cancelled by the next keystroke
        self.completed_calls = 0
        self.prompt_tokens = 0  # totals over completed model calls, for status and benchmarks
        self.prefilled_tokens = 0
        self.sticky = StickyContext()  # cross-file context kept while the user types on
        self._trace = os.environ.get("GHOSTWRIGHT_TRACE_PROMPTS")  # benchmarks only: a local JSONL file

    async def suggest(self, uri: str, line: int, character: int, *, automatic: bool,
                      request_id: object = None) -> Suggestion | None:
        started = time.monotonic()
        server, settings = self.server, self.server.settings
        doc = server.document(uri)
        offset = doc.offset_at(line, character)  # RequestError past the end
        if not settings.enabled or (settings.languages and doc.language_id not in settings.languages):
            return None
        if not should_trigger(doc, offset, automatic=automatic):  # secret files, code right of the cursor
            return None
        in_burst = self.sticky.arrived(uri, started) and automatic
        before = doc.text[:offset]
        cached = server.typed_ahead.lookup(uri, before)
        if cached is not None:
            return Suggestion(cached, offset, "cache", (time.monotonic() - started) * 1e3)
        generation = self._generation[uri] = self._generation.get(uri, 0) + 1
        if automatic and settings.debounce_ms:
            await asyncio.sleep(settings.debounce_ms / 1000)
            if self._generation.get(uri) != generation:
                return None  # the user kept typing: a newer request will answer
        asked = time.monotonic()  # the model's share of the latency starts after the debounce
        engine = await server.engines.get()
        info = engine.info()
        reused = self.sticky.reusable(uri, line, asked) if in_burst else None
        built = build_completion_prompt(
            doc, offset, index=server.index, recent_edits=server.recent_edits,
            count_tokens=engine.count_tokens, budget_tokens=settings.prompt_tokens,
            fim=info.fim, fim_at_line_start=info.fim_at_line_start, repo=server.workspace_name(),
            reuse_context=reused)
        if reused is None:
            self.sticky.keep(uri, line, asked, built.context)
        max_tokens = settings.max_tokens if built.mode == "multi" else min(settings.max_tokens, SINGLE_LINE_MAX_TOKENS)
        request = GenerationRequest(
            prompt=built.prompt, max_tokens=max_tokens, stop=built.stop,
            deadline=time.monotonic() + settings.deadline_ms / 1000, priority=Priority.INLINE,
            session_key=uri, tier=settings.tier, request_id=str(request_id),
            heal_last_token=worth_healing(built.prefix))
        self.model_calls += 1
        raw, final = await self._run(engine, request, built, doc, line, character, request_id)
        if request.heal_last_token and final is not None and final.finish in (FinishReason.STOP, FinishReason.EOS,
                                                                              FinishReason.LENGTH) \
                and not raw.strip():
            # Healing re-chose the indentation and the model went on writing only whitespace (a FIM
            # model does, at the indentation after a blank line): ask once more as typed.
            request = dataclasses.replace(request, heal_last_token=False, cancel=CancelToken())
            self.model_calls += 1
            raw, final = await self._run(engine, request, built, doc, line, character, request_id)
        if final is None or final.finish in (FinishReason.CANCELLED, FinishReason.SUPERSEDED):
            return None
        if final.finish == FinishReason.ERROR:
            log.warning("completion %s failed: %s", request_id, final.error)
            self.server.warn_once(final.error or "the model failed")
            return None
        if final.finish == FinishReason.DEADLINE:  # cut off mid-thought: keep whole lines only
            raw = clean_partial(raw, prefix=built.prefix, suffix=built.suffix, mode=built.mode,
                                language=doc.language).text
        text = clean_completion(raw, prefix=built.prefix, suffix=built.suffix, mode=built.mode,
                                language=doc.language)
        latency = (time.monotonic() - started) * 1e3
        stats = final.stats
        log.info("completion %s: %s mode, %d prompt tokens (%d prefilled), %d generated, %.0f ms, pieces %s",
                 request_id, built.mode, stats.prompt_tokens, stats.prefilled_tokens,
                 stats.generated_tokens, latency, [(p.kind, p.tokens) for p in built.pieces])
        self.completed_calls += 1
        self.prompt_tokens += stats.prompt_tokens
        self.prefilled_tokens += stats.prefilled_tokens
        if self._trace:
            self._write_trace(built, max_tokens, raw, latency, (time.monotonic() - asked) * 1e3)
        if not text:
            return None
        server.typed_ahead.remember(uri, before, text)
        return Suggestion(text, offset, "model", latency, stats.prompt_tokens, stats.prefilled_tokens)

    def _write_trace(self, built, max_tokens: int, raw: str, latency_ms: float, model_ms: float) -> None:
        prompt = dataclasses.asdict(built.prompt)  # what was asked; each tier renders it its own way
        with open(self._trace, "a", encoding="utf-8") as f:
            f.write(json.dumps({"kind": "completion", "prompt": prompt, "max_tokens": max_tokens, "stop": built.stop,
                                "raw": raw, "latency_ms": round(latency_ms, 1), "model_ms": round(model_ms, 1)}) + "\n")

    async def _run(self, engine, request, built, doc, line, character, request_id):
        """Consume the engine's stream in a thread; stream partial text to opted-in clients."""
        loop = asyncio.get_running_loop()
        streaming = self.server.settings.streaming
        protocol = self.server.protocol

        stopped_early = False

        def consume():
            nonlocal stopped_early
            raw, last_sent, final, cut = "", None, None, False
            show_by = None  # the clock starts at the first token: what it bounds is decoding
            opener = doc.spec.block_opener if doc.spec is not None else None
            for chunk in engine.generate(request):
                show_by = show_by or time.monotonic() + MULTI_LINE_SHOW_AFTER_S
                if not cut:
                    raw += chunk.text
                if chunk.done:
                    final = chunk
                    break
                if cut:
                    continue
                partial = clean_partial(raw, prefix=built.prefix, suffix=built.suffix, mode=built.mode,
                                        language=doc.language)
                if built.mode == MULTI and time.monotonic() > show_by \
                        and (whole := whole_lines_to_show(raw, chunk.text, partial.text, opener)) is not None:
                    raw, cut, stopped_early = whole, True, True
                    request.cancel.cancel()
                    continue
                if streaming and partial.text and partial.text != last_sent:
                    last_sent = partial.text
                    params = {"id": request_id, "uri": doc.uri, "version": doc.version,
                              "position": {"line": line, "character": character}, "text": partial.text,
                              "done": False}
                    loop.call_soon_threadsafe(protocol.notify, PARTIAL_NOTIFICATION, params)
                if partial.done:  # the post-processor has seen enough: stop decoding
                    stopped_early = True
                    request.cancel.cancel()
            return raw, final

        try:
            raw, final = await asyncio.to_thread(consume)
        except asyncio.CancelledError:  # $/cancelRequest, or the client went away
            request.cancel.cancel()
            raise
        if final is not None and stopped_early and final.finish == FinishReason.CANCELLED:
            final.finish = FinishReason.STOP  # we stopped it ourselves: the text is complete
        return raw, final
