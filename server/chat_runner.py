"""Run one chat request through the server's engine: streamed, cancellable, off the event loop.

    result = await run_chat(server, [{"role": "user", "content": "..."}], max_tokens=256,
                            priority=Priority.INTERACTIVE, on_text=lambda text: ...)
    result.text, result.finish, result.stats, result.mean_logprob

Why one place: code actions, hover and ask all turn messages into a chat prompt, decode in a
thread so the event loop keeps serving keystrokes, stream partial text to a progress report, and
must stop decoding when the client cancels (``$/cancelRequest`` cancels the awaiting task; a
:class:`CancelToken` from work-done progress stops it from the client's cancel button).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

from ghostwright.inference.api import (
    CancelToken,
    Chunk,
    FinishReason,
    GenerationRequest,
    GenerationStats,
    Priority,
    SamplingParams,
    generate_together,
)
from ghostwright.server.context.secrets import redact
from ghostwright.server.prompt_trace import write_trace

log = logging.getLogger(__name__)

# The threads that read answers as they stream (a reader waits on its stream for the whole
# decode). Not asyncio's default executor, which has 6 threads on 2 cores: one Implement batch
# would hold four, and an inline completion's reader, which runs there, would queue behind it.
_READERS = ThreadPoolExecutor(max_workers=32, thread_name_prefix="ghostwright-chat")


class _Linked(CancelToken):
    """A request's own cancel flag that also reads as set when the caller's token is."""

    def __init__(self, parent: CancelToken | None) -> None:
        super().__init__()
        self._parent = parent

    @property
    def cancelled(self) -> bool:
        return super().cancelled or (self._parent is not None and self._parent.cancelled)


@dataclass
class ChatResult:
    text: str
    finish: FinishReason | None
    stats: GenerationStats
    error: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """The model finished on its own (EOS, a stop string or the token limit)."""
        return self.finish in (FinishReason.EOS, FinishReason.STOP, FinishReason.LENGTH)

    @property
    def cancelled(self) -> bool:
        return self.finish in (FinishReason.CANCELLED, FinishReason.SUPERSEDED)

    @property
    def mean_logprob(self) -> float:
        """Average log-probability per generated token: how sure the model was, for ranking."""
        count = self.stats.generated_tokens + (1 if self.finish == FinishReason.EOS else 0)
        return self.stats.logprob_sum / count if count else float("-inf")


@dataclass
class ChatCall:
    """One chat request: ``run_chat``'s arguments, for ``run_chats``."""

    messages: list[dict[str, str]]
    max_tokens: int = 256
    priority: Priority = Priority.INTERACTIVE
    temperature: float = 0.0
    top_p: float = 1.0
    top_k: int = 0
    seed: int | None = None
    stop: list[str] | None = None
    deadline_s: float | None = None
    cancel: CancelToken | None = None
    on_text: Callable[[str], None] | None = None
    session_key: str | None = None
    request_id: str | None = None
    prefill: str = ""
    tier: str | None = None
    stop_when: Callable[[str], bool] | None = None
    first_token_excludes: tuple[str, ...] = ()
    heal_last_token: bool = False
    draft_tokens: int | None = None
    trace: str | None = None


async def run_chat(server, messages: list[dict[str, str]], **options: Any) -> ChatResult:
    """Decode one answer to ``messages``. ``prefill`` starts the assistant's turn (it is part of the
    prompt, not of the returned text). ``on_text`` gets the whole text so far, from the decode thread.
    ``stop_when(text)`` true ends decoding early with the text so far (finish ``stop``): a caller that
    sees the answer is complete, or degenerate, need not wait for the token limit. ``tier`` overrides
    the setting (``full`` | ``mini``; the engine falls back to what it has). ``heal_last_token``: a
    prefill that ends in indentation is re-spelled the way the model writes it ("\\n   " + " if").
    ``trace``: the kind of prompt ("action"), written to ``GHOSTWRIGHT_TRACE_PROMPTS`` as sent.
    The options are ``ChatCall``'s fields."""
    return (await run_chats(server, [ChatCall(messages, **options)]))[0]


async def run_chats(server, calls: list[ChatCall]) -> list[ChatResult]:
    """Decode several answers at once: one batch where the engine batches (the local engine: each
    decoding step runs them all in one forward pass), else concurrent requests (a remote server
    batches those itself). Each is streamed, stopped and cancelled on its own, as in ``run_chat``."""
    engine = await server.engines.get()
    requests = [_request(engine, server, call) for call in calls]
    streams = generate_together(engine, [request for _, request in requests])
    started = time.monotonic()
    loop = asyncio.get_running_loop()
    consumers = [loop.run_in_executor(_READERS, _consume, call, request, stream)
                 for call, (_, request), stream in zip(calls, requests, streams, strict=True)]
    try:
        answers = await asyncio.gather(*consumers)
    except BaseException:  # $/cancelRequest, or one reader failed: stop decoding them all within one step
        for _, request in requests:
            request.cancel.cancel()
        raise
    return [_result(call, messages, request, *answer, started)
            for call, (messages, request), answer in zip(calls, requests, answers, strict=True)]


def _request(engine, server, call: ChatCall) -> tuple[list[dict[str, str]], GenerationRequest]:
    """The request for ``call``, and its messages as the model sees them."""
    # The one door for chat prompts (hover, ask, actions): whatever text they carry, secrets leave here.
    messages = [{**m, "content": redact(m["content"])} for m in call.messages]
    prompt = replace(engine.chat_prompt(messages), prefill=redact(call.prefill))
    return messages, GenerationRequest(
        prompt=prompt, max_tokens=call.max_tokens, stop=list(call.stop or []),
        sampling=SamplingParams(temperature=call.temperature, top_p=call.top_p, top_k=call.top_k, seed=call.seed),
        deadline=None if call.deadline_s is None else time.monotonic() + call.deadline_s,
        cancel=_Linked(call.cancel), priority=call.priority, session_key=call.session_key,
        tier=call.tier or getattr(server.settings, "tier", "auto"), request_id=call.request_id,
        first_token_excludes=call.first_token_excludes, heal_last_token=call.heal_last_token,
        draft_tokens=call.draft_tokens)


def _consume(call: ChatCall, request: GenerationRequest,
             stream: Iterator[Chunk]) -> tuple[str, Chunk | None, bool, float]:
    """Read one stream to its end (in a thread): its text, its final chunk, whether ``stop_when``
    ended it, and when it ended."""
    text, final, stopped_early = "", None, False
    for chunk in stream:
        text += chunk.text
        if chunk.done:
            final = chunk
            break
        if call.on_text is not None and chunk.text:
            call.on_text(text)
        if call.stop_when is not None and chunk.text and not stopped_early and call.stop_when(text):
            stopped_early = True
            request.cancel.cancel()  # this request only: the caller's token is untouched
    return text, final, stopped_early, time.monotonic()


def _result(call: ChatCall, messages: list[dict[str, str]], request: GenerationRequest, text: str,
            final: Chunk | None, stopped_early: bool, ended: float, started: float) -> ChatResult:
    stats = getattr(final, "stats", None) or GenerationStats()
    finish = getattr(final, "finish", None)
    if stopped_early and finish == FinishReason.CANCELLED and not (call.cancel and call.cancel.cancelled):
        finish = FinishReason.STOP
    error = getattr(final, "error", None)
    seconds = ended - started
    log.info("chat %s: %s, %d prompt tokens, %d generated, %.2f s, mean logprob %.3f", request.request_id,
             finish.value if finish else "no answer", stats.prompt_tokens, stats.generated_tokens, seconds,
             stats.logprob_sum / max(1, stats.generated_tokens))
    if call.trace is not None:
        write_trace(call.trace, messages, text, seconds * 1e3, prefill=request.prompt.prefill)
    return ChatResult(text=text, finish=finish, stats=stats, error=error, seconds=seconds)
