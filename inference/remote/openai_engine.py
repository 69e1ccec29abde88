"""An :class:`Engine` that is an OpenAI-compatible server somewhere else.

The LSP server consumes ``generate`` in a worker thread, as it does the local engine; here
every request is one streamed ``/v1/completions`` call on an ``httpx.AsyncClient`` running in
this engine's own event loop thread. Cancellation, supersession and deadlines close the
stream: vLLM and llama-server stop decoding on disconnect (not always promptly, so
``max_tokens`` stays small and stop strings are always sent). A backend that is down or
answers an error ends the request with a message, never a hang.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import queue
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

from ghostwright.errors import EngineError
from ghostwright.inference.api import (
    ChatPrompt,
    Chunk,
    FinishReason,
    GenerationRequest,
    GenerationStats,
    ModelInfo,
)
from ghostwright.inference.remote.healing import HealedStart, cut_indentation
from ghostwright.inference.remote.probe import Backend, probe
from ghostwright.inference.remote.spelling import Renderer
from ghostwright.inference.remote.sse import DONE, error_message, events
from ghostwright.inference.remote.wire import prompt_to_json

log = logging.getLogger(__name__)

POLL_S = 0.02  # how often a waiting stream looks at its cancel token and deadline
_FINISH = {"stop": FinishReason.STOP, **{r.value: r for r in FinishReason}}  # ours says deadline, superseded…


@dataclass(frozen=True)
class RemoteConfig:
    url: str  # http://host:port[/v1] or unix:/path/to/socket
    api_key: str = ""  # sent as a bearer token; never logged
    model: str = ""  # the served model's id; empty = the first one /v1/models lists
    connect_timeout_s: float = 3.0
    request_timeout_s: float = 60.0  # longest any one request may take, whatever its deadline
    extra_headers: dict[str, str] = field(default_factory=dict)

    @staticmethod
    def from_settings(url: str, api_key: str = "", api_key_env: str = "", model: str = "") -> RemoteConfig:
        key = api_key or (os.environ.get(api_key_env, "") if api_key_env else "")
        if api_key_env and not key:
            raise EngineError(f"backendApiKeyEnv names {api_key_env}, which is not set")
        return RemoteConfig(url=url, api_key=key, model=model)


def client_for(config: RemoteConfig) -> httpx.AsyncClient:
    """An async client for the config's URL: TCP, or a Unix socket (``unix:/path``)."""
    headers = {**config.extra_headers}
    if config.api_key:
        headers["Authorization"] = f"Bearer {config.api_key}"
    timeout = httpx.Timeout(config.request_timeout_s, connect=config.connect_timeout_s)
    if config.url.startswith("unix:"):
        transport = httpx.AsyncHTTPTransport(uds=config.url[5:])
        return httpx.AsyncClient(base_url="http://ghostwright", headers=headers, timeout=timeout, transport=transport)
    base = config.url.rstrip("/")
    base = base[:-3] if base.endswith("/v1") else base
    return httpx.AsyncClient(base_url=base, headers=headers, timeout=timeout)


class RemoteEngine:
    def __init__(self, config: RemoteConfig, backend: Backend, renderer: Renderer,
                 loop: asyncio.AbstractEventLoop, client: httpx.AsyncClient) -> None:
        self.config, self.backend, self.renderer = config, backend, renderer
        self._loop, self._client = loop, client
        self._lock = threading.Lock()
        self._active = 0
        self._finished: dict[str, int] = {}
        self._last_error: str | None = None
        self._slots: dict[str, int] = {}  # llama-server: one slot per session, so its prefix cache is ours
        self._client_id = uuid.uuid4().hex[:12]

    # -- the Engine protocol ---------------------------------------------------------
    def generate(self, request: GenerationRequest) -> Iterator[Chunk]:
        cut = ""
        if request.heal_last_token and self.backend.dialect != "ghostwright":  # ours heals server-side
            prompt, cut = cut_indentation(request.prompt)
        if not cut:
            yield from self._generate(request)
            return
        healer = HealedStart(cut)
        for chunk in self._generate(replace(request, prompt=prompt)):
            text = healer.feed(chunk.text) + (healer.flush() if chunk.done else "")
            if text or chunk.done:
                yield replace(chunk, text=text)

    def _generate(self, request: GenerationRequest) -> Iterator[Chunk]:
        out: queue.Queue[Chunk] = queue.Queue()
        future = asyncio.run_coroutine_threadsafe(self._stream(request, out), self._loop)
        finished = False
        try:
            while True:
                chunk = out.get()
                finished = chunk.done  # before the yield: a consumer may stop at the last chunk
                yield chunk
                if finished:
                    return
        finally:
            if not finished:  # the consumer stopped listening: close the stream
                request.cancel.cancel()
                future.cancel()

    def count_tokens(self, text: str) -> int:
        return self.renderer.count_tokens(text)

    def chat_prompt(self, messages: list[dict[str, str]], add_generation_prompt: bool = True) -> ChatPrompt:
        return ChatPrompt(tuple((m["role"], m["content"]) for m in messages), "", add_generation_prompt)

    def info(self) -> ModelInfo:
        kind = self.backend.prompt_kind or self.renderer.kind
        return ModelInfo(name=self.backend.model, tiers=self.backend.tiers, device=f"remote:{self.backend.kind}",
                         context_length=self.backend.context_length, fim=kind != "code",
                         formats={t: kind for t in self.backend.tiers}, chat_template=True,
                         fim_at_line_start=self.renderer.format.infill_at_line_start)

    def stats(self) -> dict[str, object]:
        with self._lock:
            return {"active_requests": self._active, "finished": dict(self._finished),
                    "backend": {"url": _display(self.config.url), "kind": self.backend.kind,
                                "model": self.backend.model, "prompt": self.backend.dialect,
                                "last_error": self._last_error}}

    def close(self) -> None:
        async def shutdown() -> None:
            await self._client.aclose()

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(timeout=2)
        self._loop.call_soon_threadsafe(self._loop.stop)

    # -- one request -------------------------------------------------------------------
    def body(self, request: GenerationRequest) -> tuple[str, dict[str, Any]]:
        """(path, JSON body) for ``request`` on this backend."""
        s = request.sampling
        body: dict[str, Any] = {"model": self.backend.model, "max_tokens": request.max_tokens, "stream": True,
                                "temperature": s.temperature, "top_p": s.top_p}
        if s.seed is not None:
            body["seed"] = s.seed
        if s.top_k and self.backend.kind != "openai":
            body["top_k"] = s.top_k
        stops = [*request.stop, *self.renderer.stops(request.prompt)]
        if self.backend.dialect == "ghostwright":
            body["prompt"] = ""
            body["ghostwright"] = {**prompt_to_json(request.prompt), "priority": int(request.priority),
                                   "tier": request.tier, "session": self._session(request.session_key),
                                   "heal_last_token": request.heal_last_token,
                                   "first_token_excludes": list(request.first_token_excludes)}
            if request.deadline is not None:
                body["ghostwright"]["deadline_ms"] = max(1, int((request.deadline - time.monotonic()) * 1e3))
            body["stop"] = request.stop or None
            return "/v1/completions", body
        # Candidates are ranked by the model's own confidence; llama-cpp-python scores the whole
        # vocabulary in Python for it (5x slower), so it is not asked.
        scored = self.backend.kind != "llama-cpp-python"
        prompt = self.renderer.render(request.prompt, as_ids=self.backend.dialect == "ids")
        if prompt is None:  # a chat prompt whose template only the server knows
            assert isinstance(request.prompt, ChatPrompt)
            body["messages"] = [{"role": r, "content": c} for r, c in request.prompt.messages]
            if request.prompt.prefill:  # vLLM's way to continue an answer; others start a new one
                body["messages"].append({"role": "assistant", "content": request.prompt.prefill})
                body.update(continue_final_message=True, add_generation_prompt=False)
            body["stop"] = stops[:4] or None
            if scored:
                body["logprobs"] = True
            return "/v1/chat/completions", body
        body["prompt"] = prompt
        if scored and isinstance(request.prompt, ChatPrompt):
            body["logprobs"] = 1  # the sampled token's log-probability comes with each token
        body["stop"] = (stops[:4] if self.backend.kind == "openai" else stops) or None  # OpenAI itself takes 4
        if self.backend.kind in ("llama.cpp", "llama-cpp-python"):
            body["cache_prompt"] = True
            if request.session_key and self.backend.kind == "llama.cpp":
                body["id_slot"] = self._slot(request.session_key)
        if request.session_key and self.backend.kind in ("vllm", "sglang"):
            body["cache_salt"] = "ghostwright"  # one tenant per user: the salt isolates, the session does not
        return "/v1/completions", body

    def _session(self, key: str | None) -> str | None:
        """One editor's document: two windows on the same file must not supersede each other."""
        return f"{self._client_id}:{key}" if key else None

    def _slot(self, session: str) -> int:
        with self._lock:
            if session not in self._slots:
                self._slots[session] = len(self._slots) % max(1, self.backend.slots)
            return self._slots[session]

    async def _stream(self, request: GenerationRequest, out: queue.Queue[Chunk]) -> None:
        stats = GenerationStats(tier=self.backend.tiers[0], route_reason=f"backend {self.backend.kind}")
        started = time.monotonic()
        text_parts: list[str] = []
        with self._lock:
            self._active += 1

        def finish(reason: FinishReason, error: str | None = None) -> None:
            stats.decode_s = time.monotonic() - started
            with self._lock:
                self._active -= 1
                self._finished[reason.value] = self._finished.get(reason.value, 0) + 1
                if reason == FinishReason.ERROR:
                    self._last_error = error
                elif reason in (FinishReason.EOS, FinishReason.STOP, FinishReason.LENGTH):
                    self._last_error = None
            out.put(Chunk("", done=True, finish=reason, stats=stats, error=error))

        try:
            path, body = self.body(request)
        except Exception as exc:  # a prompt this backend cannot take
            finish(FinishReason.ERROR, str(exc))
            return
        if isinstance(body.get("prompt"), list):
            stats.prompt_tokens = len(body["prompt"])
        elif isinstance(body.get("prompt"), str) and body["prompt"]:
            stats.prompt_tokens = self.renderer.count_tokens(body["prompt"])  # the usage event may correct it
        events_q: asyncio.Queue[Any] = asyncio.Queue()

        async def read() -> None:
            try:
                async with self._client.stream("POST", path, json=body) as response:
                    if response.status_code >= 400:
                        raw = (await response.aread()).decode("utf-8", "replace")
                        await events_q.put(EngineError(_http_error(self.backend, response.status_code, raw)))
                        return
                    async for event in events(response.aiter_lines()):
                        await events_q.put(event)
                    await events_q.put(DONE)
            except asyncio.CancelledError:
                raise
            except httpx.TimeoutException:
                await events_q.put(EngineError(f"the backend at {_display(self.config.url)} timed out"))
            except httpx.HTTPError as exc:
                await events_q.put(EngineError(f"the backend at {_display(self.config.url)} is not reachable "
                                               f"({type(exc).__name__}: {exc})"))
            except EngineError as exc:
                await events_q.put(exc)

        reader = asyncio.create_task(read())
        reason: FinishReason | None = None
        tail_until: float | None = None  # after finish_reason, the usage event may still come
        try:
            while True:
                if tail_until is not None and time.monotonic() > tail_until:
                    break
                if request.cancel.cancelled:
                    reason = reason or FinishReason.CANCELLED
                    break
                if request.deadline is not None and time.monotonic() > request.deadline:
                    reason = reason or FinishReason.DEADLINE
                    break
                try:
                    event = await asyncio.wait_for(events_q.get(), POLL_S)
                except asyncio.TimeoutError:
                    continue
                if event is DONE:
                    reason = reason or FinishReason.EOS
                    break
                if tail_until is not None and request.cancel.cancelled:
                    break
                if isinstance(event, EngineError):
                    finish(FinishReason.ERROR, str(event))
                    return
                message = error_message(event)
                if message:
                    finish(FinishReason.ERROR, f"the backend refused the request: {message}")
                    return
                usage = event.get("usage") if isinstance(event, dict) else None
                if isinstance(usage, dict):
                    stats.prompt_tokens = int(usage.get("prompt_tokens") or stats.prompt_tokens)
                    stats.generated_tokens = int(usage.get("completion_tokens") or stats.generated_tokens)
                    cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens")
                    if isinstance(cached, int):
                        stats.reused_tokens = cached
                    stats.prefilled_tokens = stats.prompt_tokens - stats.reused_tokens
                ours = event.get("ghostwright") if isinstance(event, dict) else None
                if isinstance(ours, dict):  # another Ghostwright engine says where it ran
                    stats.tier = str(ours.get("tier") or stats.tier)
                    stats.route_reason = str(ours.get("route_reason") or stats.route_reason)
                    stats.prefilled_tokens = int(ours.get("prefilled_tokens") or stats.prefilled_tokens)
                    if isinstance(ours.get("logprob_sum"), (int, float)):
                        stats.logprob_sum = float(ours["logprob_sum"])
                for choice in (event.get("choices") or []) if isinstance(event, dict) else []:
                    piece = choice.get("text")
                    if piece is None:
                        piece = (choice.get("delta") or {}).get("content") or ""
                    scores = token_logprobs(choice.get("logprobs"))
                    stats.logprob_sum += sum(scores)
                    if piece:
                        if not text_parts:
                            stats.prefill_s = time.monotonic() - started
                        text_parts.append(piece)
                        stats.generated_tokens += len(scores) or 1
                        out.put(Chunk(piece))
                    if choice.get("finish_reason") and reason is None:
                        reason = _FINISH.get(choice["finish_reason"], FinishReason.EOS)
                        tail_until = time.monotonic() + 0.5
            reason = reason or FinishReason.EOS
            if reason == FinishReason.EOS and request.stop and any(s in "".join(text_parts) for s in request.stop):
                reason = FinishReason.STOP
            finish(reason)
        except asyncio.CancelledError:
            finish(FinishReason.CANCELLED)
            raise
        finally:
            reader.cancel()  # leaves the `async with`: the connection closes, the backend stops
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader


def token_logprobs(raw: Any) -> list[float]:
    """The sampled tokens' log-probabilities in one streamed choice: ``token_logprobs`` on
    /v1/completions, ``content[].logprob`` on chat; absent or null where the server gives none."""
    if not isinstance(raw, dict):
        return []
    if isinstance(raw.get("token_logprobs"), list):
        values = raw["token_logprobs"]
    elif isinstance(raw.get("content"), list):
        values = [item.get("logprob") for item in raw["content"] if isinstance(item, dict)]
    else:
        return []
    return [float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]


def _http_error(backend: Backend, status: int, raw: str) -> str:
    import json

    try:
        message = error_message(json.loads(raw)) or raw
    except json.JSONDecodeError:
        message = raw
    if status == 401:
        return "the backend refused the API key (401): check backendApiKey / backendApiKeyEnv"
    return f"the backend answered {status}: {message.strip()[:300]}"


def _display(url: str) -> str:
    """A URL without credentials, for logs and status."""
    return httpx.URL(url).copy_with(username=None, password=None).__str__() if "@" in url else url


def connect(config: RemoteConfig, local_renderer: Renderer | None = None) -> RemoteEngine:
    """Probe the backend (health, models), pick the prompt spelling, and start the client loop.
    :class:`EngineError` says what is wrong when the backend is down or unusable."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="ghostwright-remote", daemon=True)
    thread.start()
    client = client_for(config)
    try:
        backend, renderer = asyncio.run_coroutine_threadsafe(
            probe(client, config, local_renderer), loop).result(timeout=config.connect_timeout_s * 4 + 5)
    except BaseException:
        asyncio.run_coroutine_threadsafe(client.aclose(), loop).result(timeout=2)
        loop.call_soon_threadsafe(loop.stop)
        raise
    log.info("remote backend %s: %s, model %s, prompts %s", _display(config.url), backend.kind, backend.model,
             backend.dialect)
    return RemoteEngine(config, backend, renderer, loop, client)


__all__ = ["RemoteConfig", "RemoteEngine", "connect"]
