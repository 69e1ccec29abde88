"""Answer a question about the workspace: retrieve, prompt with numbered sources, stream, check citations.

1. Chunks of the files the workspace index walks (``chunk_store.py``), ranked by BM25
   (``retrieval.py``).
2. A chat prompt: the top chunks as numbered ``[n] path:line`` sources under a token
   budget, the question, AGENTS.md instructions in the system message.
3. The answer decodes at interactive priority (inline completions still go first) and
   streams through work-done progress: each report's message is the answer so far.
4. Every ``path:line`` in the answer is checked against the workspace and fixed or
   removed (``citations.py``); a Sources list of the retrieved chunks is appended.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ghostwright.errors import RequestError
from ghostwright.inference.api import CancelToken, FinishReason, Priority
from ghostwright.server.agents_md import instructions_for, workspace_roots
from ghostwright.server.ask.chunk_store import ChunkStore, Snapshot
from ghostwright.server.ask.chunks import SourceChunk
from ghostwright.server.ask.citations import attribute, sources_section, validate
from ghostwright.server.ask.retrieval import BM25, relevant
from ghostwright.server.chat_runner import run_chat
from ghostwright.server.context.languages import spec_for
from ghostwright.server.context.secrets import redact
from ghostwright.server.context.workspace_files import iter_files
from ghostwright.server.prompt_trace import write_trace
from ghostwright.server.repetition import cut_repetition
from ghostwright.server.work_progress import WorkProgress

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 2000
DEFAULT_SOURCES = 4
SOURCE_TOKENS = 900  # prompt budget for the sources: prefill time on a CPU is the cost
MAX_SOURCE_LINES = 30
MAX_TOKENS = 160
INSTRUCTION_CHARS = 1200
REPORT_INTERVAL_S = 0.1
MIN_ANSWER_CHARS = 40
NO_ANSWER = "_The model could not answer this from the sources; these are the closest matches:_"
SYSTEM = ("You answer questions about a code base using only the numbered sources. "
          "Cite the sources you use like [1]. Answer in two or three sentences.")


@dataclass
class AskResult:
    markdown: str
    sources: list[SourceChunk]
    finish: str
    seconds: float
    citations: dict[str, list[Any]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "markdown": self.markdown,
            "sources": [{"path": s.path, "line": s.start_line + 1, "endLine": s.end_line + 1, "name": s.name}
                        for s in self.sources],
            "finish": self.finish,
            "seconds": round(self.seconds, 2),
            "citations": self.citations,
        }


def ask_messages(question: str, sources: list[SourceChunk], language_of: dict[str, str],
                 instructions: str) -> list[dict[str, str]]:
    """The chat prompt: numbered sources with their ``path:line``, then the question."""
    system = SYSTEM + (f"\n\n{instructions.strip()}" if instructions.strip() else "")
    blocks = []
    for number, chunk in enumerate(sources, 1):
        title = f"[{number}] {chunk.citation}" + (f" ({chunk.name})" if chunk.name else "")
        fence = language_of.get(chunk.path, "")
        blocks.append(f"{title}\n```{fence}\n{redact(chunk.text)}\n```")
    user = "Sources:\n\n" + "\n\n".join(blocks) + f"\n\nQuestion: {question}"
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def fit_sources(ranked: list[SourceChunk], count_tokens, budget: int) -> list[SourceChunk]:
    """The best chunks, each cut to ``MAX_SOURCE_LINES``, while they fit ``budget`` tokens."""
    chosen, used = [], 0
    for chunk in ranked:
        lines = chunk.text.split("\n")
        if len(lines) > MAX_SOURCE_LINES:
            chunk = SourceChunk(chunk.path, chunk.start_line, chunk.start_line + MAX_SOURCE_LINES - 1,
                                "\n".join(lines[:MAX_SOURCE_LINES]), chunk.name)
        cost = count_tokens(chunk.text) + 12
        if chosen and used + cost > budget:
            break
        chosen.append(chunk)
        used += cost
    return chosen


def parse_arguments(args: tuple[Any, ...]) -> dict[str, Any]:
    """``"question"`` or ``{"question", "uri"?, "workDoneToken"?, "maxSources"?}``; RequestError if bad."""
    first = args[0] if args else None
    options = {"question": first} if isinstance(first, str) else first
    if not isinstance(options, dict):
        raise RequestError('ghostwright.ask expects a question: ["how are settings parsed?"] or '
                           '[{"question": "...", "workDoneToken": "..."}]')
    question = options.get("question")
    if not isinstance(question, str) or not question.strip():
        raise RequestError("ghostwright.ask: the question is empty")
    if len(question) > MAX_QUESTION_CHARS:
        raise RequestError(f"ghostwright.ask: the question is longer than {MAX_QUESTION_CHARS} characters")
    sources = options.get("maxSources", DEFAULT_SOURCES)
    if isinstance(sources, bool) or not isinstance(sources, int) or not 1 <= sources <= 10:
        raise RequestError("ghostwright.ask: maxSources must be an integer from 1 to 10")
    token = options.get("workDoneToken")
    if token is not None and (isinstance(token, bool) or not isinstance(token, str | int)):
        raise RequestError("ghostwright.ask: workDoneToken must be a string or an integer")
    uri = options.get("uri")
    if uri is not None and not isinstance(uri, str):
        raise RequestError("ghostwright.ask: uri must be a string")
    return {"question": question.strip(), "max_sources": sources, "token": token, "uri": uri}


class AskService:
    def __init__(self, server) -> None:
        self.server = server
        self._store: ChunkStore | None = None
        self.model_calls = 0

    def store(self) -> ChunkStore:
        index = self.server.index
        if index is None:
            raise RequestError("ghostwright.ask needs a workspace folder (the client sent no rootUri)")
        if self._store is None or self._store.root != index.root:
            self._store = ChunkStore(index.root)
        return self._store

    async def ask(self, question: str, *, max_sources: int = DEFAULT_SOURCES, token: Any = None,
                  uri: str | None = None, request_id: str = "") -> AskResult:
        started = time.monotonic()
        store, server = self.store(), self.server
        snapshot = self._snapshot(store.root)
        index = server.index

        def walk_and_chunk() -> list[SourceChunk]:
            # The index's own walk (same .gitignore rules, size cap, secret and binary checks), not its
            # symbol table: a module of constants has no definitions but may hold the answer.
            paths = [relative for _, relative in iter_files(index.root, index.rules, max_bytes=index.max_file_bytes)]
            return store.gather(paths, snapshot)

        chunks = await asyncio.to_thread(walk_and_chunk)
        ranked = [r.chunk for r in relevant(BM25(chunks).search(question, k=max_sources * 2))]
        engine = await server.engines.get()
        sources = fit_sources(ranked, engine.count_tokens, SOURCE_TOKENS)[:max_sources]
        scope = self._scope(uri, store.root)
        instructions = instructions_for(scope, workspace_roots(server) or [store.root], INSTRUCTION_CHARS,
                                        compact=True)
        languages = {c.path: self._language(c.path) for c in sources}
        messages = ask_messages(question, sources, languages, instructions)
        async with WorkProgress(server, "Ghostwright: Ask", token=token) as progress:
            progress.report(f"searching: {len(chunks)} chunks, {len(sources)} sources", percentage=5)
            last, looped, loop = [0.0], CancelToken(), asyncio.get_running_loop()

            def on_text(text: str) -> None:  # decode thread: throttled, the latest text wins at the end
                if cut_repetition(text) is not None:  # the model started over: stop it, keep what came first
                    looped.cancel()
                    progress.cancel_token.cancel()
                    return
                now = time.monotonic()
                if now - last[0] >= REPORT_INTERVAL_S:
                    last[0] = now
                    # Hop to the event loop first: there the report is dropped if the progress already
                    # ended (a report queued from this thread must never arrive after the end).
                    loop.call_soon_threadsafe(progress.report, text,
                                              min(95, 5 + 90 * len(text) // (MAX_TOKENS * 4)))

            self.model_calls += 1
            result = await run_chat(server, messages, max_tokens=MAX_TOKENS, priority=Priority.INTERACTIVE,
                                    cancel=progress.cancel_token, on_text=on_text,
                                    request_id=f"ask/{request_id}")
            if looped.cancelled:
                cut = cut_repetition(result.text)
                result.text, result.finish = (result.text if cut is None else cut), FinishReason.STOP
            if result.text:
                progress.report(result.text, percentage=100)
        write_trace("ask", messages, result.text, result.seconds * 1e3,
                    finish=result.finish.value if result.finish else None)
        if result.cancelled:
            raise RequestError("ghostwright.ask was cancelled")
        if result.error:
            raise RequestError(f"ghostwright.ask failed: {result.error}")
        text = result.text.strip()
        if len(text) < MIN_ANSWER_CHARS or text.endswith(":"):  # "The answer is:" and nothing after it
            text = NO_ANSWER
        report = validate(attribute(text, sources) if text != NO_ANSWER else text, sources, store.line_count)
        answer = report.text.strip()
        markdown = answer + ("\n\n" + sources_section(sources) if sources else
                             "\n\n_No workspace code matched the question._")
        log.info("ask %s: %d chunks, %d sources, citations kept %d fixed %d dropped %d, %.2f s", request_id,
                 len(chunks), len(sources), len(report.kept), len(report.fixed), len(report.dropped),
                 time.monotonic() - started)
        return AskResult(markdown, sources, result.finish.value if result.finish else "none",
                         time.monotonic() - started,
                         {"kept": report.kept, "fixed": [list(f) for f in report.fixed], "dropped": report.dropped})

    def _snapshot(self, root: Path) -> Snapshot:
        texts = {}
        for doc in self.server.documents.values():
            if doc.path:
                try:
                    relative = Path(doc.path).resolve().relative_to(root).as_posix()
                except ValueError:
                    continue
                if doc.spec is not None and not self.server.index.rules.path_ignored(relative):
                    texts[relative] = (doc.version, doc.text)
        return Snapshot(texts)

    def _scope(self, uri: str | None, root: Path) -> Path:
        """AGENTS.md scope: the document the question was asked from, else the workspace root."""
        if uri:
            doc = self.server.documents.get(uri)
            if doc is not None and doc.path:
                return Path(doc.path)
        return root

    @staticmethod
    def _language(path: str) -> str:
        spec = spec_for(None, path)
        return spec.name if spec else ""
