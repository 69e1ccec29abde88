"""The HTTP routes of ``ghostwright engine serve`` (Starlette on uvicorn).

Each request decodes in the engine's worker thread, as an editor's would; a thread per
request carries its chunks to the event loop. A client that goes away cancels its request
at once, so the engine stops within one decode step (and the tokens it still decoded are
counted in ``ghostwright_tokens_after_disconnect``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from ghostwright.errors import RequestError
from ghostwright.inference.api import Chunk, FinishReason
from ghostwright.inference.serving.access import Access, Refused, User
from ghostwright.inference.serving.metrics import Metrics, reason_label
from ghostwright.inference.serving.schema import Parsed, parse

log = logging.getLogger(__name__)

_OPENAI_FINISH = {FinishReason.EOS: "stop", FinishReason.STOP: "stop", FinishReason.LENGTH: "length"}


def _error(status: int, message: str, kind: str = "invalid_request_error", **headers: str) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind, "code": status}}, status, headers=headers)


class KeyCheck:
    """Every route but ``/health`` needs a key when keys are configured (``/metrics`` too)."""

    def __init__(self, app: ASGIApp, access: Access) -> None:
        self.app, self.access = app, access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.access.required or scope["path"] == "/health":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        user = self.access.authenticate(headers.get("authorization"))
        if user is None:
            await _error(401, "a valid API key is required (Authorization: Bearer KEY)", "authentication_error")(
                scope, receive, send)
            return
        scope.setdefault("state", {})["user"] = user
        await self.app(scope, receive, send)


class EngineApp:
    def __init__(self, engine: Any, access: Access, model_names: tuple[str, ...] | None = None) -> None:
        self.engine, self.access, self.metrics = engine, access, Metrics()
        info = engine.info()
        self.info = info
        self.models = model_names or (info.name,)
        self.vocab_size = engine.tokenizer.vocab_size
        self.started = time.time()
        self.last_activity = time.monotonic()

    # -- routes --------------------------------------------------------------------------
    async def health(self, request: Request) -> Response:
        return JSONResponse({"status": "ok", "engine": "ghostwright", "model": self.info.name,
                             "tiers": list(self.info.tiers), "context_length": self.info.context_length,
                             "prompt_format": self.info.formats.get("full", next(iter(self.info.formats.values()))),
                             "device": self.info.device})

    async def models_route(self, request: Request) -> Response:
        return JSONResponse({"object": "list", "data": [
            {"id": m, "object": "model", "created": int(self.started), "owned_by": "ghostwright",
             "max_model_len": self.info.context_length} for m in self.models]})

    async def tokenizer(self, request: Request) -> Response:
        """The full tier's ``tokenizer.json``, so a client counts prompt budgets without a round trip."""
        text = self.engine.manifest.tokenizer_path.read_text(encoding="utf-8")
        return JSONResponse({"tokenizer": text, "vocab_size": self.vocab_size})

    async def tokenize(self, request: Request) -> Response:
        body = await self._body(request)
        if isinstance(body, Response):
            return body
        text = body.get("prompt", body.get("content")) if isinstance(body, dict) else None
        if not isinstance(text, str):
            return _error(400, "tokenize needs a prompt (string)")
        tokens = self.engine.tokenizer.encode_text(text)
        return JSONResponse({"tokens": tokens, "count": len(tokens), "max_model_len": self.info.context_length})

    async def metrics_route(self, request: Request) -> Response:
        return Response(self.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    async def completions(self, request: Request) -> Response:
        return await self._generate(request, chat=False)

    async def chat_completions(self, request: Request) -> Response:
        return await self._generate(request, chat=True)

    # -- the work ------------------------------------------------------------------------
    async def _body(self, request: Request) -> Any:
        raw = await request.body()
        try:
            return json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            return _error(400, f"the body is not valid JSON ({exc.__class__.__name__}: {exc})")

    async def _generate(self, request: Request, chat: bool) -> Response:
        route = "chat" if chat else "completions"
        self.last_activity = time.monotonic()
        body = await self._body(request)
        if isinstance(body, Response):
            self.metrics.refused.labels(route, "400").inc()
            return body
        user: User | None = request.scope.get("state", {}).get("user")
        try:
            parsed = parse(body, chat=chat, models=self.models, vocab_size=self.vocab_size,
                           context=self.info.context_length)
            size, capacity = await asyncio.to_thread(self.engine.prompt_size, parsed.request.prompt)
            if size + 1 > capacity:
                raise RequestError(f"the prompt has {size} tokens; this engine holds {capacity} per request")
            parsed.request.max_tokens = min(parsed.request.max_tokens, capacity - size)
            forced = self.access.admit(user)
        except RequestError as exc:
            self.metrics.refused.labels(route, "400").inc()
            return _error(400, str(exc))
        except Refused as exc:
            self.metrics.refused.labels(route, "429").inc()
            headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else {}
            return _error(429, str(exc), "rate_limit_error", **headers)
        if forced and forced in self.info.tiers:
            parsed.request.tier = forced
        parsed.request.request_id = f"http/{uuid.uuid4().hex[:8]}"
        if parsed.stream:
            return StreamingResponse(self._sse(parsed, route, user), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        text, final = "", None
        async for chunk in self._chunks(parsed, route, user):
            text += chunk.text
            final = chunk if chunk.done else final
        if final is not None and final.finish == FinishReason.ERROR:
            return _error(500, final.error or "the engine failed", "server_error")
        return JSONResponse(self._object(parsed, text, final, with_usage=True))

    async def _chunks(self, parsed: Parsed, route: str, user: User | None) -> AsyncIterator[Chunk]:
        """The engine's chunks on the event loop; leaving early cancels the request.

        The thread that pulls the chunks also does the accounting: a client that went away
        cancels this generator, and a cancelled task may not await anything more."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Chunk] = asyncio.Queue()
        request = parsed.request
        state: dict[str, int | None] = {"pulled": 0, "at_cancel": None}
        started = time.monotonic()

        def pump() -> None:
            final: Chunk | None = None
            try:
                for chunk in self.engine.generate(request):
                    if chunk.done:
                        final = chunk
                    else:
                        state["pulled"] += 1  # type: ignore[operator]
                    loop.call_soon_threadsafe(queue.put_nowait, chunk)
                    if chunk.done:
                        break
            except Exception as exc:  # the engine refused it: the client gets the message
                final = Chunk("", True, FinishReason.ERROR, None, str(exc))
                loop.call_soon_threadsafe(queue.put_nowait, final)
            finally:
                self.metrics.active.dec()
                if state["at_cancel"] is not None and final is not None and final.stats is not None:
                    self.metrics.after_cancel.observe(final.stats.decoded_after_cancel)
                self._account(route, final, user, time.monotonic() - started)

        self.metrics.active.inc()
        threading.Thread(target=pump, name=f"gw-http-{request.request_id}", daemon=True).start()
        finished = False
        first = True
        try:
            while True:
                chunk = await queue.get()
                if chunk.done:
                    finished = True
                    yield chunk
                    return
                if first and chunk.text:
                    self.metrics.first_token.labels(route).observe(time.monotonic() - started)
                    first = False
                yield chunk
        finally:
            if not finished:  # the client went away (or the consumer stopped): stop decoding now
                state["at_cancel"] = state["pulled"]
                request.cancel.cancel()

    def _account(self, route: str, final: Chunk | None, user: User | None, seconds: float) -> None:
        finish = final.finish.value if final is not None and final.finish else "unknown"
        self.metrics.requests.labels(route, finish).inc()
        self.metrics.latency.labels(route).observe(seconds)
        stats = final.stats if final is not None else None
        if stats is not None:
            self.metrics.prompt_tokens.inc(stats.prompt_tokens)
            self.metrics.reused_tokens.inc(stats.reused_tokens)
            self.metrics.generated_tokens.inc(stats.generated_tokens)
            if stats.tier:
                self.metrics.tiers.labels(stats.tier, reason_label(stats.route_reason)).inc()
            self.access.spend(user, stats.prompt_tokens + stats.generated_tokens)
        self.last_activity = time.monotonic()

    def _object(self, parsed: Parsed, text: str, final: Chunk | None, with_usage: bool) -> dict[str, Any]:
        finish = _OPENAI_FINISH.get(final.finish) if final is not None and final.finish else None
        if final is not None and final.finish and finish is None:
            finish = final.finish.value  # deadline, superseded, cancelled: said as they are
        choice: dict[str, Any] = {"index": 0, "finish_reason": finish}
        if parsed.chat:
            choice["message" if with_usage else "delta"] = {"role": "assistant", "content": text}
        else:
            choice["text"] = text
        out: dict[str, Any] = {"id": parsed.request.request_id,
                               "object": "chat.completion" if parsed.chat else "text_completion",
                               "created": int(time.time()), "model": parsed.model, "choices": [choice]}
        stats = final.stats if final is not None else None
        if with_usage and stats is not None:
            out["usage"] = {"prompt_tokens": stats.prompt_tokens, "completion_tokens": stats.generated_tokens,
                            "total_tokens": stats.prompt_tokens + stats.generated_tokens,
                            "prompt_tokens_details": {"cached_tokens": stats.reused_tokens}}
            out["ghostwright"] = {"tier": stats.tier, "route_reason": stats.route_reason,
                                  "prefilled_tokens": stats.prefilled_tokens, "logprob_sum": stats.logprob_sum}
        return out

    async def _sse(self, parsed: Parsed, route: str, user: User | None) -> AsyncIterator[bytes]:
        async for chunk in self._chunks(parsed, route, user):
            if chunk.done and chunk.text:
                yield f"data: {json.dumps(self._object(parsed, chunk.text, None, with_usage=False))}\n\n".encode()
            if chunk.done:
                if chunk.finish == FinishReason.ERROR:
                    payload = {"error": {"message": chunk.error or "the engine failed", "type": "server_error"}}
                    yield f"data: {json.dumps(payload)}\n\n".encode()
                else:
                    yield f"data: {json.dumps(self._object(parsed, '', chunk, with_usage=False))}\n\n".encode()
                    usage = self._object(parsed, "", chunk, with_usage=True)
                    usage["choices"] = []
                    yield f"data: {json.dumps(usage)}\n\n".encode()
                yield b"data: [DONE]\n\n"
                return
            if chunk.text:
                obj = self._object(parsed, chunk.text, None, with_usage=False)
                yield f"data: {json.dumps(obj)}\n\n".encode()


def build_app(engine: Any, access: Access, model_names: tuple[str, ...] | None = None) -> Starlette:
    state = EngineApp(engine, access, model_names)
    routes = [
        Route("/health", state.health),
        Route("/v1/models", state.models_route),
        Route("/v1/ghostwright/tokenizer", state.tokenizer),
        Route("/tokenize", state.tokenize, methods=["POST"]),
        Route("/metrics", state.metrics_route),
        Route("/v1/completions", state.completions, methods=["POST"]),
        Route("/v1/chat/completions", state.chat_completions, methods=["POST"]),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(KeyCheck, access=access)])
    app.state.engine_app = state
    return app
