"""The local engine: one worker thread that owns the sessions and runs requests step by step.

Each request is a generator of steps (a prefill chunk, or one decoded token). Between
steps the worker picks the most urgent request, so an inline completion typed now runs
ahead of a hover explanation that started earlier, and cancellation, deadlines and
superseding take effect within one step.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
from collections.abc import Generator, Iterator
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from ghostwright.errors import RequestError
from ghostwright.inference.api import (
    AnyPrompt,
    ChatPrompt,
    Chunk,
    FinishReason,
    GenerationRequest,
    GenerationStats,
    InfillPrompt,
    ModelInfo,
    Priority,
    Prompt,
)
from ghostwright.inference.decoder import Decoder
from ghostwright.inference.kv_cache import KVCache, Slot, SlotPool
from ghostwright.inference.manifest import BundleManifest
from ghostwright.inference.prompt_format import CODE, PromptFormat, render_chat, render_infill
from ghostwright.inference.prompt_lookup import PromptLookup
from ghostwright.inference.resident_memory import release_free_memory
from ghostwright.inference.router import Router
from ghostwright.inference.sampling import Sampler
from ghostwright.inference.text_stream import TextStream
from ghostwright.inference.tokenization import TextTokenizer

log = logging.getLogger(__name__)

# Tokens per prefill step: bounds the latency of cancellation, and the attention's waste: each step
# scores its whole block against every cached position, masked or not, so a 1,024-token prompt
# in steps of 256 does 37% less attention work than in one (on Qwen2.5-Coder-0.5B w8a8, an AMX
# Xeon: 1,064 tokens/s against 885 in steps of 512 and 683 in one step).
PREFILL_CHUNK = 256
# A step of a lower-priority request is what an inline completion may have to wait for:
# keep those steps short (a little prefill throughput traded for keystroke latency).
PREFILL_CHUNK_BELOW_INLINE = 128
# Greedy requests draft up to this many tokens by prompt lookup and verify them in one step
# (0: off). Off unless a request asks (GenerationRequest.draft_tokens): edits that copy their
# input gain 2.5x, completions only 1.1-1.2x, and on int8 a verifying step can flip a near tie
# (bench/speculation.py).
DRAFT_TOKENS = 0
DRAFT_MIN_NGRAM = 1  # the shortest tail of the text a draft is looked up by
# When the queue drains, freed heap pages go back to the system, at most this often. Waiting for an
# idle second instead (so that the next keystroke's request never faults its buffers back in)
# measured no faster model call (59 vs 58 ms p50) and a 939 MB peak instead of 880 in the
# in-package typing replay: between keystrokes is when there is memory to give back.
TRIM_INTERVAL_S = 1.0
# An inline request sent to the mini tier because the full tier's cache lacked its prompt leaves a
# background prefill of that prompt on the full tier, in steps this small (what a keystroke's
# request may wait for). Without it the full tier never caught up: every later request of the
# session saw the same uncached head, was sent to mini too, and only mini's cache followed the
# typing (273 of 460 requests in the in-package typing replay went to SmolLM2 that way).
CATCH_UP_CHUNK = 48
# Inline calls that ended on their own: how many tokens they decoded tells the router how long
# an inline answer runs (a chat answer's hundreds of tokens would not).
_ANSWERED = (FinishReason.STOP, FinishReason.EOS, FinishReason.LENGTH)


@dataclass
class Tier:
    """One model (or one quantization of it) the router can send a request to: its own session,
    KV slots, tokenizer and prompt format."""

    name: str  # full | mini
    decoder: Decoder
    pool: SlotPool
    manifest: BundleManifest
    tokenizer: TextTokenizer
    format: PromptFormat

    def render(self, prompt: AnyPrompt) -> Prompt:
        if isinstance(prompt, InfillPrompt):
            return render_infill(self.format, prompt)
        if isinstance(prompt, ChatPrompt):
            return render_chat(self.manifest, self.tokenizer.special_ids(), prompt)
        return prompt

    def same_prompt(self, other: Tier) -> bool:
        """Whether this tier reads the very ids ``other`` encodes a prompt to (one model's two quantizations)."""
        return self.tokenizer is other.tokenizer and self.format == other.format

    def end_ids(self, prompt: AnyPrompt) -> set[int]:
        """What ends an answer: EOS, and for a fill-in-the-middle prompt the FIM and file tokens
        (a FIM model that has written the middle may go on to start another file)."""
        ids = set(self.manifest.eos_ids)
        return ids | set(self.format.fim_stops) if isinstance(prompt, InfillPrompt) else ids


@dataclass
class _Job:
    request: GenerationRequest
    seq: int
    submitted: float
    out: queue.Queue[Chunk] = field(default_factory=queue.Queue)
    stats: GenerationStats = field(default_factory=GenerationStats)
    superseded: bool = False
    finished: bool = False
    reason: FinishReason | None = None
    prefill_chunk: int | None = None  # tokens per prefill step when not the priority's default
    blocked: tuple[SlotPool, int] | None = None  # found no slot in this pool at this release count
    slot_owner: str | None = None  # the session whose slot it uses (a catch-up: the session it prefills for)
    running: bool = False  # holds a slot: prefill has begun
    steps: Iterator[None] | None = None
    batch: list[_Job] = field(default_factory=list)  # the first request of a batch: all of its requests

    def members(self) -> list[_Job]:
        """The requests this job's steps answer: a batch's, or itself."""
        return self.batch or [self]

    def stale(self) -> bool:
        """Superseded, cancelled or past its deadline (every request of a batch): its next step only finishes it."""
        return all(job.alone_stale() for job in self.members())

    def alone_stale(self) -> bool:
        deadline = self.request.deadline
        late = deadline is not None and time.monotonic() > deadline
        return self.superseded or self.request.cancel.cancelled or late

    def order(self) -> tuple[int, int, int]:
        """The worker runs the smallest: priority first, then what already holds a slot (in
        order), then what waits. Waiting inline requests go newest first: under load every
        editor's next keystroke cancels its pending request, so the oldest is the one least
        likely to live long enough to be shown, and the newest has its whole pause ahead."""
        if self.running:
            return (self.request.priority, 0, self.seq)
        if self.blocked is not None and self.blocked[0].releases == self.blocked[1] and not self.stale():
            # Nothing to do until a slot is released, and only another request's step releases one:
            # a blocked inline request ahead of the background one holding the slot would spin.
            return (len(Priority), 2, self.seq)
        return (self.request.priority, 1, -self.seq if self.request.priority == Priority.INLINE else self.seq)


class OnnxEngine:
    def __init__(self, tiers: dict[str, Tier], router: Router, *, draft_tokens: int = DRAFT_TOKENS) -> None:
        self.tiers = tiers
        self.draft_tokens = draft_tokens  # speculative decoding by prompt lookup: drafts per step (0: off)
        self.draft_min_ngram = DRAFT_MIN_NGRAM
        self._speculation = Speculation()
        self._batches = Batches()
        first = tiers.get("full") or next(iter(tiers.values()))
        self.tokenizer = first.tokenizer  # what the server's token budgets are counted in
        self.manifest = first.manifest
        self.router = router
        self._jobs: list[_Job] = []
        self._cond = threading.Condition()
        self._seq = itertools.count()
        self._closed = False
        self._finished: dict[str, int] = {}
        self._worker = threading.Thread(target=self._run, name="ghostwright-engine", daemon=True)
        self._worker.start()

    # -- the Engine protocol ---------------------------------------------------------
    def generate(self, request: GenerationRequest) -> Iterator[Chunk]:
        yield from _stream(self._submit(request))

    def generate_batch(self, requests: list[GenerationRequest]) -> list[Iterator[Chunk]]:
        """Answer several requests as one batch: each is prefilled on its own (a shared prompt
        head once, through the slots), then every decoding step runs all unfinished requests in one
        forward pass, which on a CPU costs little more than one request's step (the weights are
        read once for all rows). Implement's candidates are decoded this way. Each stream is
        what ``generate`` would yield for that request (sampling, stops, healing and cancellation
        are per request; prompt-lookup drafting is not done in a batch); all go to the tier the router
        picks for the first. On a GPU (whose caches this engine does not slice by rows) the
        requests run as separate ones."""
        if len(requests) < 2 or any(t.decoder.device != "cpu" for t in self.tiers.values()):
            return [self.generate(r) for r in requests]
        jobs = [self._job(r) for r in requests]
        jobs[0].steps, jobs[0].batch = self._batch_steps(jobs), jobs
        self._enqueue(jobs[0])
        return [_stream(job) for job in jobs]

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.encode_text(text))

    def prompt_size(self, prompt: AnyPrompt) -> tuple[int, int]:
        """(tokens ``prompt`` takes on the full tier, tokens a request may hold there): an HTTP
        front end refuses an oversized prompt before it starts a stream."""
        tier = self.tiers.get("full") or next(iter(self.tiers.values()))
        return len(tier.tokenizer.encode(tier.render(prompt))), tier.pool.capacity

    def chat_prompt(self, messages: list[dict[str, str]], add_generation_prompt: bool = True) -> ChatPrompt:
        return ChatPrompt(tuple((m["role"], m["content"]) for m in messages), "", add_generation_prompt)

    def info(self) -> ModelInfo:
        first = self.tiers.get("full") or next(iter(self.tiers.values()))
        return ModelInfo(
            name=first.manifest.name,  # the full tier's model; stats() names every tier's
            tiers=tuple(self.tiers),
            device=first.decoder.device,
            context_length=min(t.pool.capacity for t in self.tiers.values()),
            fim=first.format.kind != CODE,
            formats={name: t.format.kind for name, t in self.tiers.items()},
            chat_template=bool(first.manifest.chat_template),
            fim_at_line_start=first.format.infill_at_line_start,
        )

    def stats(self) -> dict[str, object]:
        with self._cond:
            active = sum(len(job.members()) for job in self._jobs)
            finished = dict(self._finished)
        return {
            "active_requests": active,
            "finished": finished,
            "router": self.router.snapshot(),
            "speculation": asdict(self._speculation),
            "batches": asdict(self._batches),
            "tiers": {name: {"model": t.manifest.name, "variant": t.decoder.manifest.variant,
                             "device": t.decoder.device, "prompt_format": t.format.kind,
                             "slots": len(t.pool.slots), "max_slots": t.pool.max_slots,
                             "cache_tokens": t.pool.capacity,
                             # KV pages touched so far, and the most they can ever take: bounded growth
                             "kv_resident_mb": sum(slot.cache.resident_bytes() for slot in list(t.pool.slots)) / 2**20,
                             "kv_bound_mb": t.pool.max_slots * t.decoder.cache_nbytes(t.pool.capacity) / 2**20}
                      for name, t in self.tiers.items()},
        }

    def warm_up(self, tokens: int = 12) -> None:
        """Run a short request on every tier: first-run allocations happen now, not on the
        user's first keystroke, and the router starts from measured speeds."""
        prompt = Prompt.text("def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n")
        for name in self.tiers:
            for _ in self.generate(GenerationRequest(prompt=prompt, max_tokens=tokens, tier=name,
                                                     priority=Priority.BACKGROUND, request_id=f"warm-up/{name}")):
                pass
        for tier in self.tiers.values():  # the warm-up's KV state is of no use to anyone
            for slot in tier.pool.slots:
                slot.tokens.clear()
            tier.tokenizer.prepare_healing()
        release_free_memory()  # what loading, parsing and prepacking freed

    def close(self) -> None:
        with self._cond:
            self._closed = True
            for job in (member for queued in self._jobs for member in queued.members()):
                job.request.cancel.cancel()
            self._cond.notify_all()
        self._worker.join(timeout=5)

    # -- submission --------------------------------------------------------------------
    def _submit(self, request: GenerationRequest, *, prefill_chunk: int | None = None,
                slot_owner: str | None = None) -> _Job:
        job = self._job(request, prefill_chunk=prefill_chunk, slot_owner=slot_owner)
        job.steps = self._steps(job)
        return self._enqueue(job)

    def _job(self, request: GenerationRequest, *, prefill_chunk: int | None = None,
             slot_owner: str | None = None) -> _Job:
        if request.max_tokens < 1:
            raise RequestError(f"max_tokens must be at least 1, got {request.max_tokens}")
        if request.sampling.temperature < 0 or not 0 < request.sampling.top_p <= 1:
            raise RequestError("temperature must be >= 0 and top_p in (0, 1]")
        return _Job(request=request, seq=next(self._seq), submitted=time.monotonic(), prefill_chunk=prefill_chunk,
                    slot_owner=slot_owner or request.session_key)

    def _enqueue(self, job: _Job) -> _Job:
        request = job.request
        with self._cond:
            if self._closed:
                raise RequestError("the engine is closed")
            if request.session_key is not None:
                for other in (member for queued in self._jobs for member in queued.members()):
                    if other.request.session_key == request.session_key and other.request.priority == request.priority:
                        other.superseded = True
            self._jobs.append(job)
            self._cond.notify()
        return job

    # -- the worker --------------------------------------------------------------------
    def _run(self) -> None:
        trimmed_at = 0.0  # only this thread reads or writes it
        while True:
            with self._cond:
                while not self._jobs and not self._closed:
                    self._cond.wait()
                if self._closed and not self._jobs:
                    return
                job = min(self._jobs, key=_Job.order)
            try:
                next(job.steps)  # type: ignore[arg-type]
                continue
            except StopIteration:
                pass
            except Exception as exc:  # a failing request must not kill the worker
                log.exception("request %s failed", job.request.request_id)
                self._finish(job, FinishReason.ERROR, error=str(exc))
            with self._cond:
                self._jobs.remove(job)
                drained = not self._jobs
            if drained and time.monotonic() - trimmed_at > TRIM_INTERVAL_S:
                release_free_memory()  # outside the lock: a request submitted meanwhile is not held up
                trimmed_at = time.monotonic()

    def _aborted(self, job: _Job) -> FinishReason | None:
        if job.superseded:
            return FinishReason.SUPERSEDED
        if job.request.cancel.cancelled or self._closed:
            return FinishReason.CANCELLED
        if job.request.deadline is not None and time.monotonic() > job.request.deadline:
            return FinishReason.DEADLINE
        return None

    def _finish(self, job: _Job, reason: FinishReason, text: str = "", error: str | None = None) -> None:
        if job.finished:
            return
        job.finished = True
        job.reason = reason
        job.out.put(Chunk(text=text, done=True, finish=reason, stats=job.stats, error=error))
        with self._cond:
            self._finished[reason.value] = self._finished.get(reason.value, 0) + 1
        s = job.stats
        log.info("request %s %s tier=%s (%s) prompt=%d reused=%d prefilled=%d generated=%d "
                 "queue=%.1fms prefill=%.1fms decode=%.1fms", job.request.request_id, reason.value,
                 s.tier, s.route_reason, s.prompt_tokens, s.reused_tokens, s.prefilled_tokens,
                 s.generated_tokens, s.queue_s * 1e3, s.prefill_s * 1e3, s.decode_s * 1e3)

    def _steps(self, job: _Job) -> Iterator[None]:
        """The whole life of one request, suspended at each yield."""
        request, stats = job.request, job.stats
        full = self.tiers.get("full")
        first = full or next(iter(self.tiers.values()))
        try:
            ids, healed = self._encode(first, request)
        except (ValueError, RequestError) as exc:
            self._finish(job, FinishReason.ERROR, error=str(exc))
            return
        if not ids:
            self._finish(job, FinishReason.ERROR, error="the prompt is empty")
            return
        if (reason := self._aborted(job)) is not None:  # stale before it ran: it must not route or catch up
            self._finish(job, reason)
            return
        now = time.monotonic()
        # The full tier's cost is the part of the prompt its slots do not already hold.
        uncached = len(ids) - (full.pool.longest_prefix(ids) if full else 0)
        tier_name, stats.route_reason = self.router.choose(request, uncached, now)
        if request.session_key is not None and full is not None:  # without a session, nothing asks again
            if tier_name == "mini" and stats.route_reason.startswith("deadline"):
                self._catch_up(request)
            elif tier_name == "full":  # it prefills for itself
                self._supersede(f"catch-up:{request.session_key}")
        tier = self.tiers[tier_name]
        stats.tier = tier_name
        if not tier.same_prompt(first):  # another model: its own prompt
            encoded = self._prompt_ids(job, tier)
            if encoded is None:
                return
            ids, healed = encoded
        elif not self._fits(job, tier, ids):
            return
        while (acquired := tier.pool.acquire(ids, job.slot_owner)) is None:  # the slots it may take are busy
            if (reason := self._aborted(job)) is not None:
                self._finish(job, reason)
                return
            job.blocked = (tier.pool, tier.pool.releases)
            yield
        job.blocked = None
        slot, reuse = acquired
        job.running = True
        try:
            yield from self._generate_in_slot(job, tier, slot, ids, reuse, healed)
        finally:
            tier.pool.release(slot)
            if job.finished:  # warm-up requests measure speed but spend no budget
                self.router.record(tier_name, stats, count_budget=not (request.request_id or "").startswith("warm-up/"),
                                   inline_answer=job.reason in _ANSWERED and request.priority == Priority.INLINE)

    def _catch_up(self, request: GenerationRequest) -> None:
        """Prefill ``request``'s prompt on the full tier in the background (see ``CATCH_UP_CHUNK``):
        a newer catch-up for the same session supersedes it, keeping the chunks already done."""
        self._submit(GenerationRequest(
            prompt=request.prompt, max_tokens=1, priority=Priority.BACKGROUND, tier="full",
            session_key=f"catch-up:{request.session_key}", request_id=f"{request.request_id}/catch-up"),
            prefill_chunk=CATCH_UP_CHUNK, slot_owner=request.session_key)

    def _supersede(self, session_key: str) -> None:
        with self._cond:
            for other in (member for queued in self._jobs for member in queued.members()):
                if other.request.session_key == session_key:
                    other.superseded = True

    def _prompt_ids(self, job: _Job, tier: Tier) -> tuple[list[int], str] | None:
        """``_encode`` for a job that fits ``tier``'s cache; None when it does not (finished with the error)."""
        try:
            ids, healed = self._encode(tier, job.request)
        except (ValueError, RequestError) as exc:
            self._finish(job, FinishReason.ERROR, error=str(exc))
            return None
        if not ids:
            self._finish(job, FinishReason.ERROR, error="the prompt is empty")
            return None
        return (ids, healed) if self._fits(job, tier, ids) else None

    def _fits(self, job: _Job, tier: Tier, ids: list[int]) -> bool:
        """Whether ``ids`` leave room in ``tier``'s cache; if not, the job is finished with the error."""
        job.stats.prompt_tokens = len(ids)
        if len(ids) < tier.pool.capacity:
            return True
        self._finish(job, FinishReason.ERROR,
                     error=f"the prompt has {len(ids)} tokens; the cache holds {tier.pool.capacity}")
        return False

    def _encode(self, tier: Tier, request: GenerationRequest) -> tuple[list[int], str]:
        """The prompt as ``tier``'s ids, and the text token healing took off its end ("" if none).

        Healing re-chooses the last token of the text before the cursor, which may be a cut-off
        word or an indentation run the model would spell otherwise. In a fill-in-the-middle
        prompt that token sits before ``<|fim_suffix|>``, so it leaves the prefix itself."""
        prompt = request.prompt
        if request.heal_last_token and isinstance(prompt, InfillPrompt) and tier.format.kind != CODE:
            cut = tier.tokenizer.encode_text(prompt.prefix)[-1:]
            healed = tier.tokenizer.decode(cut) if cut else ""
            if healed and prompt.prefix.endswith(healed) and tier.tokenizer.ids_respelling(healed):
                healed_prompt = replace(prompt, prefix=prompt.prefix[: -len(healed)])
                return tier.tokenizer.encode(tier.render(healed_prompt)), healed
            return tier.tokenizer.encode(tier.render(prompt)), ""
        rendered = tier.render(prompt)
        ids = tier.tokenizer.encode(rendered)
        if request.heal_last_token and len(ids) > 1 and rendered.segments and isinstance(rendered.segments[-1], str):
            healed = tier.tokenizer.decode(ids[-1:])
            if healed and tier.tokenizer.ids_respelling(healed):
                return ids[:-1], healed
        return ids, ""

    def _generate_in_slot(self, job: _Job, tier: Tier, slot: Slot, ids: list[int], reuse: int,
                          healed: str = "") -> Iterator[None]:
        request, stats, decoder = job.request, job.stats, tier.decoder
        logits = yield from self._prefill(job, tier, slot, ids, reuse)
        if logits is None:
            return
        answer = _Answer(self, job, tier, healed, min(request.max_tokens, slot.cache.capacity - len(ids)))
        # Speculation (greedy only): drafted tokens run with the token just chosen in one step;
        # the logits of the drafts greedy decoding agrees with wait here, their K/V already cached.
        draft_tokens = self.draft_tokens if request.draft_tokens is None else request.draft_tokens
        drafting = draft_tokens > 0 and decoder.multi_row and request.sampling.temperature <= 0
        lookup = PromptLookup(ids, slot.cache.capacity, min_ngram=self.draft_min_ngram) if drafting else None
        verified: list[np.ndarray] = []  # (vocab,) logits, next first
        while True:
            token = answer.take(logits)
            if token is None:
                return
            yield
            if (reason := self._aborted(job)) is not None:
                answer.stop(reason)
                return
            if lookup is not None:
                lookup.append(token)
            if verified:  # ``token`` was a draft the model agreed with: its logits are already here
                logits = verified.pop(0)
                continue
            room = min(draft_tokens, answer.max_new - stats.generated_tokens - 1,
                       slot.cache.capacity - len(slot.tokens) - 1)
            writing_freely = not answer.respell and not answer.excludes
            drafts = lookup.draft(room) if lookup is not None and writing_freely else []
            if not drafts:
                logits = decoder.forward(slot.cache, [token], len(slot.tokens))
                slot.tokens.append(token)
                continue
            # One step over the token and its drafts: row i holds the logits after drafts[:i].
            rows = decoder.forward(slot.cache, [token, *drafts], len(slot.tokens), rows=len(drafts) + 1)
            accepted = _agreeing(rows, drafts)
            slot.tokens.extend([token, *drafts[:accepted]])  # the rejected drafts' K/V are overwritten later
            self._speculation.record(len(drafts), accepted)
            logits, verified = rows[0], list(rows[1 : accepted + 1])

    def _prefill(self, job: _Job, tier: Tier, slot: Slot, ids: list[int],
                 reuse: int) -> Generator[None, None, np.ndarray | None]:
        """Feed the prompt after the reused prefix into ``slot``, a chunk per step; the last
        position's logits, or None when the request was stopped (and finished) on the way."""
        request, stats = job.request, job.stats
        stats.queue_s = time.monotonic() - job.submitted
        stats.reused_tokens, stats.prefilled_tokens = reuse, len(ids) - reuse
        position = reuse
        default_step = PREFILL_CHUNK if request.priority == Priority.INLINE else PREFILL_CHUNK_BELOW_INLINE
        step = job.prefill_chunk or default_step
        # The time spent in the model's prefill steps, not the wall time across them: a request that
        # prefills in several steps waits between them while more urgent ones run, and the router
        # learns prefill speed from this (a background catch-up had taught it its waits).
        stats.prefill_s = 0.0
        while True:
            if (reason := self._aborted(job)) is not None:
                stats.prefilled_tokens = position - reuse  # what was really prefilled, for the router
                self._finish(job, reason)
                return None
            chunk = ids[position : position + step]
            started = time.monotonic()
            logits = tier.decoder.forward(slot.cache, chunk, position)
            stats.prefill_s += time.monotonic() - started
            slot.tokens.extend(chunk)
            position += len(chunk)
            if position >= len(ids):
                return logits
            yield

    def _batch_steps(self, jobs: list[_Job]) -> Iterator[None]:
        """The life of a batch (``generate_batch``), run as the first request's steps: whatever
        goes wrong, every request of it gets its final chunk."""
        try:
            yield from self._run_batch(jobs)
        except Exception as exc:  # a failing batch must not leave a caller waiting, nor kill the worker
            log.exception("batch %s failed", jobs[0].request.request_id)
            for job in jobs:
                self._finish(job, FinishReason.ERROR, error=str(exc))
        finally:
            for job in jobs:
                self._finish(job, FinishReason.CANCELLED)  # a no-op for the finished

    def _run_batch(self, jobs: list[_Job]) -> Iterator[None]:
        lead = jobs[0]
        full = self.tiers.get("full")
        first = full or next(iter(self.tiers.values()))
        try:
            head: tuple[list[int], str] | None = self._encode(first, lead.request)
        except (ValueError, RequestError):
            head = None  # its own encoding below says why
        head_ids = head[0] if head else []
        uncached = len(head_ids) - (full.pool.longest_prefix(head_ids) if full else 0)
        tier_name, route_reason = self.router.choose(lead.request, uncached, time.monotonic())
        tier = self.tiers[tier_name]
        rows: list[_Row] = []
        for job in jobs:
            job.stats.tier, job.stats.route_reason = tier_name, route_reason
            if job is lead and head and head[0] and tier.same_prompt(first):
                encoded = head if self._fits(job, tier, head[0]) else None
            else:
                encoded = self._prompt_ids(job, tier)
            if encoded is not None:
                rows.append(_Row(job, *encoded))
        if not rows:
            return
        capacity = min(tier.pool.capacity, max(len(r.ids) + r.job.request.max_tokens for r in rows))
        batch = tier.decoder.allocate_cache(capacity, rows=len(rows))
        views: dict[int, KVCache] = {}  # live rows -> the batch's first rows (one binding each)
        live: list[_Row] = []
        try:
            for row in rows:  # each prompt into a slot (a head shared with the previous one is reused), then its row
                while (acquired := tier.pool.acquire(row.ids, row.job.slot_owner)) is None:
                    if (reason := self._aborted(row.job)) is not None:
                        self._finish(row.job, reason)
                        break
                    lead.blocked = (tier.pool, tier.pool.releases)
                    yield
                lead.blocked = None
                if acquired is None:
                    continue
                slot, reuse = acquired
                lead.running = True
                try:
                    logits = yield from self._prefill(row.job, tier, slot, row.ids, reuse)
                    if logits is not None:
                        batch.copy_row(slot.cache, 0, len(live), len(row.ids))
                finally:
                    tier.pool.release(slot)
                    lead.running = False
                if logits is not None:
                    row.begin(self, tier, logits, len(live), capacity)
                    live.append(row)
                yield  # a step per prompt, as a request alone would take: an inline request may come first
            self._batches.record(len(live))
            lead.running = True
            while live:
                for row in live:
                    reason = self._aborted(row.job)
                    if reason is None:
                        row.token = row.answer.take(row.logits)  # type: ignore[union-attr]
                    else:
                        row.answer.stop(reason)  # type: ignore[union-attr]
                        row.token = None
                live = _compact(batch, live)
                if not live:
                    return
                yield
                if len(live) not in views:
                    views[len(live)] = batch.first_rows(len(live))
                logits_rows = tier.decoder.forward_batch(views[len(live)], [r.token for r in live],
                                                         [r.length for r in live])
                for row, logits in zip(live, logits_rows, strict=True):
                    row.logits, row.length = logits, row.length + 1
        finally:
            for view in views.values():
                tier.decoder.forget(view)
            for row in rows:
                if row.answer is not None and row.job.finished:  # it ran: its tokens count, its prefill speed teaches
                    self.router.record(tier_name, row.job.stats, inline_answer=False, decode_speed=False)


@dataclass
class _Row:
    """One request of a batch: its prompt, then where it decodes."""

    job: _Job
    ids: list[int]
    healed: str
    answer: _Answer | None = None
    logits: np.ndarray | None = None
    token: int | None = None  # the token chosen last; None once the request is finished
    position: int = 0  # its row in the batch's cache
    length: int = 0  # tokens in its row of the cache

    def begin(self, engine: OnnxEngine, tier: Tier, logits: np.ndarray, position: int, capacity: int) -> None:
        self.answer = _Answer(engine, self.job, tier, self.healed,
                              min(self.job.request.max_tokens, capacity - len(self.ids)))
        self.logits, self.position, self.length = logits, position, len(self.ids)


def _compact(batch: KVCache, rows: list[_Row]) -> list[_Row]:
    """The unfinished rows, moved into the batch's first rows (the next step runs only those):
    a row past them takes the place of a finished one, its K/V copied there."""
    kept = [r for r in rows if r.token is not None]
    free = sorted(set(range(len(kept))) - {r.position for r in kept})
    for row in kept:
        if row.position >= len(kept):
            target = free.pop(0)
            batch.copy_row(batch, row.position, target, row.length)
            row.position = target
    return sorted(kept, key=lambda r: r.position)


def _stream(job: _Job) -> Iterator[Chunk]:
    """The chunks of ``job`` as the worker writes them; a consumer that stops listening cancels it."""
    try:
        while True:
            chunk = job.out.get()
            yield chunk
            if chunk.done:
                return
    finally:
        if not job.finished:
            job.request.cancel.cancel()


class _Answer:
    """One request's answer, a token at a time: token healing's re-spelling, the first-token
    exclusions, sampling, end and stop tokens, the length limit, and the text streamed out.
    The same for a request decoded alone and for one row of a batch."""

    def __init__(self, engine: OnnxEngine, job: _Job, tier: Tier, healed: str, max_new: int) -> None:
        self.engine, self.job, self.tokenizer = engine, job, tier.tokenizer
        self.end_ids = tier.end_ids(job.request.prompt)
        self.stream = TextStream(tier.tokenizer.decode, job.request.stop, skip=healed)
        self.sampler = Sampler(job.request.sampling)
        self.respell = healed  # token healing: the first token(s) must re-spell the cut-off text
        self.excludes = job.request.first_token_excludes  # held until a token writes past the healed text
        self.max_new = max_new
        # Chat answers are ranked by the model's confidence (candidates); a completion is not, and
        # its log-probabilities would cost a pass over the vocabulary a token. Remote engines ask
        # their servers for log-probabilities on the same rule.
        self.scored = isinstance(job.request.prompt, ChatPrompt)
        self.started = time.monotonic()

    def take(self, logits: np.ndarray) -> int | None:
        """Choose the next token and write it out; None once the answer has ended (finished)."""
        stats, tokenizer = self.job.stats, self.tokenizer
        if self.respell:
            logits = respell_mask(tokenizer, self.respell, logits, self.excludes)
        elif self.excludes:
            logits = logits.copy()
            logits[tokenizer.ids_containing(self.excludes)] = -np.inf
        token = self.sampler(logits)
        if self.respell:
            spelled = tokenizer.spelling(token)
            self.excludes = self.excludes if len(spelled) <= len(self.respell) else ()
            self.respell = still_to_respell(self.respell, spelled)
        else:
            self.excludes = ()
        if self.scored:
            stats.logprob_sum += _logprob(logits, token)
        if token in self.end_ids:
            self._end(FinishReason.EOS, self.stream.finish())
            return None
        stats.generated_tokens += 1
        if self.job.request.cancel.cancelled_at is not None:  # decoded after the caller said stop: the step in flight
            stats.decoded_after_cancel += 1
        text = self.stream.push(token)
        if self.stream.stopped:
            self._end(FinishReason.STOP, text)
            return None
        if text:
            self.job.out.put(Chunk(text=text))
        if stats.generated_tokens >= self.max_new:
            self._end(FinishReason.LENGTH, self.stream.finish())
            return None
        return token

    def stop(self, reason: FinishReason) -> None:
        """End it early: cancelled, superseded, or past its deadline (which keeps the text held back)."""
        self._end(reason, "" if reason != FinishReason.DEADLINE else self.stream.finish())

    def _end(self, reason: FinishReason, text: str) -> None:
        self.job.stats.decode_s = time.monotonic() - self.started
        self.engine._finish(self.job, reason, text)


@dataclass
class Speculation:
    """What prompt-lookup drafting has done since the engine started (stats())."""

    steps: int = 0  # model steps that verified drafts
    drafted: int = 0  # tokens drafted
    accepted: int = 0  # drafted tokens greedy decoding agreed with

    def record(self, drafted: int, accepted: int) -> None:
        self.steps += 1
        self.drafted += drafted
        self.accepted += accepted


@dataclass
class Batches:
    """What ``generate_batch`` has decoded since the engine started (stats())."""

    runs: int = 0  # batches that reached decoding
    rows: int = 0  # requests they decoded together

    def record(self, rows: int) -> None:
        if rows:
            self.runs += 1
            self.rows += rows


def _agreeing(rows: np.ndarray, drafts: list[int]) -> int:
    """How many leading drafts equal the greedy choice after the tokens before them.
    rows: (len(drafts) + 1, vocab); rows[i] predicts the token after drafts[:i]."""
    choices = np.argmax(rows[: len(drafts)], axis=1)  # (len(drafts),)
    wrong = np.flatnonzero(choices != np.asarray(drafts))
    return int(wrong[0]) if wrong.size else len(drafts)


def respell_mask(tokenizer: TextTokenizer, respell: str, logits: np.ndarray,
                 excludes: tuple[str, ...] = ()) -> np.ndarray:
    """Logits with every token that cannot continue re-spelling ``respell`` ruled out, and those
    whose text past ``respell`` (the first generated text) contains one of ``excludes``."""
    allowed = tokenizer.ids_respelling(respell)
    if excludes:
        allowed = [i for i in allowed
                   if not any(x in tokenizer.spelling(i)[len(respell):] for x in excludes)]
    masked = np.full_like(logits, -np.inf)
    masked[allowed] = logits[allowed]
    return masked


def still_to_respell(respell: str, spelled: str) -> str:
    """What remains to re-spell after a token spelled ``spelled`` (it covers or prefixes it)."""
    return "" if spelled.startswith(respell) else respell[len(spelled):]


# Logits this far below the top add under vocab * e^-20 (3e-4 of the total for 151,936 ids) to the
# softmax's normaliser, so log p is off by under 3e-4 nats without them; on Qwen2.5's logits 5-70 k
# ids are within 20 of the top, and an exp over those alone halves the cost (numpy's float32 exp
# is not vectorised for AVX2: 0.4 ms over the whole vocabulary).
NEGLIGIBLE_LOGIT_GAP = 20.0


def _logprob(logits: np.ndarray, token: int) -> float:
    """log p(token) under the unscaled logits (temperature 1): what ranks sampled candidates."""
    top = float(logits.max())
    if not np.isfinite(logits[token]):
        return float("-inf")
    near = logits.take(np.flatnonzero(logits > top - NEGLIGIBLE_LOGIT_GAP))
    return float(logits[token]) - top - float(np.log(np.exp(near - top).sum()))
