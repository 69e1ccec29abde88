"""What every action shares: the request it runs in, its result, and "ask until the answer parses".

An action never touches the editor: it reads a snapshot (text and version taken when it
started), talks to the model through :meth:`ActionContext.chat`, and returns replacements.
The feature module decides whether they may still be applied (the version must not have moved).
"""

from __future__ import annotations

import ast
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ghostwright.inference.api import Priority
from ghostwright.inference.chat import SMOLLM_DEFAULT_SYSTEM
from ghostwright.server.actions.edits import Replacement, apply_all, overlapping
from ghostwright.server.actions.validate import syntax_problems
from ghostwright.server.chat_runner import ChatCall, ChatResult, run_chats
from ghostwright.server.context.document import Document
from ghostwright.server.context.secrets import PLACEHOLDER
from ghostwright.server.work_progress import WorkProgress

# Drafts per step for an answer that copies its input (bench/speculation.py: 2.47x on such edits).
EDIT_DRAFT_TOKENS = 4

log = logging.getLogger(__name__)

RETRY_TEMPERATURE = 0.7
RETRY_TOP_P = 0.95


class ActionError(Exception):
    """A failure the user is told about (window/showMessage); nothing is changed."""


class ActionCancelled(ActionError):
    """The client cancelled (its progress cancel button): stop, change nothing."""


class InvalidAnswer(Exception):
    """This answer cannot become an edit (no code, wrong shape, does not parse): try another."""


@dataclass(frozen=True)
class Offer:
    """One action the client may show in its menu; ``data`` comes back on resolve."""

    action: str
    title: str
    kind: str
    data: dict[str, Any] = field(default_factory=dict)
    diagnostic: dict[str, Any] | None = None  # the diagnostic a quickfix answers (raw LSP JSON)


@dataclass(frozen=True)
class FileEdit:
    """An edit of another file: ``create`` a new one, or change a snapshot of an existing one."""

    uri: str
    text: str  # the file's text the replacement's offsets refer to ("" for a new file)
    replacement: Replacement
    create: bool = False
    version: int | None = None  # the open document's version, when the server has it open


@dataclass
class ActionResult:
    replacements: list[Replacement]  # in the action's own document snapshot
    message: str  # what was done, and what was verified
    file_edits: list[FileEdit] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)  # for the log: what was checked, and how it went


@dataclass
class ActionContext:
    server: Any
    doc: Document  # a private snapshot, never the live document
    start: int  # the client's range, as str offsets into the snapshot
    end: int
    data: dict[str, Any]
    progress: WorkProgress
    instructions: str = ""  # AGENTS.md for this file ("" if none)
    request_id: str = ""
    calls: list[ChatResult] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.doc.text

    @property
    def cancelled(self) -> bool:
        return self.progress.cancelled

    def check_cancelled(self) -> None:
        if self.progress.cancelled:
            raise ActionCancelled("cancelled")

    def messages(self, user: str, system: str | None = None) -> list[dict[str, str]]:
        """Chat messages with the system prompt the model knows, plus AGENTS.md when present."""
        parts = [system or SMOLLM_DEFAULT_SYSTEM]
        if self.instructions:
            parts.append(self.instructions)
        return [{"role": "system", "content": "\n\n".join(parts)}, {"role": "user", "content": user}]

    async def chat(self, messages: list[dict[str, str]], *, max_tokens: int, label: str,
                   temperature: float = 0.0, seed: int | None = None, stop: list[str] | None = None,
                   prefill: str = "", tier: str | None = None,
                   stop_when: Callable[[str], bool] | None = None,
                   first_token_excludes: tuple[str, ...] = (), heal_last_token: bool = False,
                   draft_tokens: int | None = None) -> ChatResult:
        """One model call at interactive priority, reported as progress, stopped by a cancel.
        ``draft_tokens``: speculative decoding for an answer that copies the prompt (greedy only)."""
        call = self.chat_call(messages, max_tokens=max_tokens, label=label, temperature=temperature, seed=seed,
                              stop=stop, prefill=prefill, tier=tier, stop_when=stop_when,
                              first_token_excludes=first_token_excludes, heal_last_token=heal_last_token,
                              draft_tokens=draft_tokens)
        return (await self.chat_many([call], label))[0]

    def chat_call(self, messages: list[dict[str, str]], *, max_tokens: int, label: str,
                  temperature: float = 0.0, seed: int | None = None, stop: list[str] | None = None,
                  prefill: str = "", tier: str | None = None,
                  stop_when: Callable[[str], bool] | None = None,
                  first_token_excludes: tuple[str, ...] = (), heal_last_token: bool = False,
                  draft_tokens: int | None = None) -> ChatCall:
        """The model call ``chat`` makes, to run with others through ``chat_many``."""
        cap = self.data.get("maxTokens")
        if isinstance(cap, int) and not isinstance(cap, bool) and cap > 0:
            max_tokens = min(max_tokens, cap)

        def on_text(text: str) -> None:
            lines = text.count("\n")
            self.progress.report(f"{label}: {lines} line{'s' if lines != 1 else ''} written")

        return ChatCall(
            messages, max_tokens=max_tokens, priority=Priority.INTERACTIVE,
            temperature=temperature, top_p=RETRY_TOP_P if temperature > 0 else 1.0, seed=seed, stop=stop,
            cancel=self.progress.cancel_token, on_text=on_text, prefill=prefill, tier=tier, stop_when=stop_when,
            request_id=f"{self.request_id}/{label}", first_token_excludes=first_token_excludes,
            heal_last_token=heal_last_token, draft_tokens=draft_tokens, trace="action")

    async def chat_many(self, calls: list[ChatCall], label: str) -> list[ChatResult]:
        """Several model calls decoded together (one batch on the local engine), as ``chat`` makes one."""
        self.check_cancelled()
        self.progress.report(f"{label}: decoding")
        results = await run_chats(self.server, calls)
        self.calls.extend(results)
        if any(r.cancelled for r in results) or self.progress.cancelled:
            raise ActionCancelled("cancelled")
        failed = next((r for r in results if r.error), None)
        if failed is not None:
            raise ActionError(f"the model failed: {failed.error}")
        return results

    def problems(self, replacements: list[Replacement]) -> list[str]:
        """Why these replacements would leave the document broken ([] when they are fine)."""
        if overlapping(replacements):
            return ["the edits overlap"]
        if any(PLACEHOLDER in r.new_text and PLACEHOLDER not in self.text[r.start : r.end] for r in replacements):
            # the model saw a secret as the placeholder and wrote it back: applied, it would erase the secret
            return [f"the answer holds {PLACEHOLDER} where a secret was kept from the model"]
        new_text = apply_all(self.text, replacements)
        problems: list[str] = []
        shift = 0
        regions = []
        for r in sorted(replacements, key=lambda r: r.start):
            start = r.start + shift
            regions.append((new_text.count("\n", 0, start) + 1, new_text.count("\n", 0, start + len(r.new_text)) + 1))
            problems += syntax_problems(self.doc.spec, new_text, start, start + len(r.new_text))
            shift += len(r.new_text) - (r.end - r.start)
        if not problems and self.doc.language == "python":
            try:
                ast.parse(new_text)
            except SyntaxError as exc:  # tree-sitter is lenient with a few things CPython refuses
                inside = exc.lineno is not None and any(a <= exc.lineno <= b for a, b in regions)
                if inside or _compiles(self.text):  # ours, not an error the user already had elsewhere
                    problems.append(f"Python refuses it: {exc.msg} (line {exc.lineno})")
        return problems

    async def until_valid(self, messages: list[dict[str, str]], build: Callable[[ChatResult], list[Replacement]],
                          *, max_tokens: int, label: str, tries: int = 3, stop: list[str] | None = None,
                          prefill: str = "", copies_input: bool = False,
                          ) -> tuple[list[Replacement], ChatResult, list[str]]:
        """Greedy first, then sampled retries, until ``build`` gives replacements that parse.
        ``copies_input``: the answer repeats most of the code it was given (an edited function), so
        the greedy try drafts from it (speculative decoding; 2.5x on such answers)."""
        reasons: list[str] = []
        for attempt in range(tries):
            result = await self.chat(messages, max_tokens=max_tokens, label=f"{label} {attempt + 1}/{tries}",
                                     temperature=0.0 if attempt == 0 else RETRY_TEMPERATURE,
                                     seed=None if attempt == 0 else attempt, stop=stop, prefill=prefill,
                                     draft_tokens=EDIT_DRAFT_TOKENS if copies_input else None)
            try:
                replacements = build(result)
            except InvalidAnswer as exc:
                reasons.append(f"answer {attempt + 1}: {exc}")
                log.info("%s: answer %d unusable: %s", label, attempt + 1, exc)
                continue
            problems = self.problems(replacements)
            if not problems:
                return replacements, result, reasons
            reasons.append(f"answer {attempt + 1}: {'; '.join(problems)}")
            log.info("%s: answer %d does not parse: %s", label, attempt + 1, problems)
        raise ActionError(f"no valid answer in {tries} tries ({reasons[-1] if reasons else 'no answer'})")


def _compiles(text: str) -> bool:
    try:
        ast.parse(text)
        return True
    except (SyntaxError, ValueError):
        return False
