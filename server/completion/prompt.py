"""Assemble what a completion needs: ranked context pieces under a token budget, then the prefix.

The result is an :class:`InfillPrompt` (what, not how): snippets from other files with their
paths, the file's own head (imports, enclosing signatures) joined to the prefix window, the
suffix window, the path and the language. Each model renders it in its own format; for one
without FIM tokens (SmolLM2) it reads like the file being written:

    # Path: app/main.py                          header        (stable)
    # Compare this snippet from app/main.py:     this file below the cursor, where it is
    #     return self.queue_event(...)           most like the lines above the cursor line
    # Compare this snippet from pkg/util.py:     definitions   (changes when the lines
    # def helper(x: int) -> str:                                around the cursor do)
    # Compare this snippet from app/db.py:       recent edits  (changes on edits elsewhere)
    import os                                    imports       (stable)
    class Service:                               enclosing signatures
        def run(self):
            <prefix window ... cursor>           prefix window (always; trimmed from the top)

Qwen2.5-Coder gets the snippets as ``<|file_sep|>path`` files, then ``<|fim_prefix|>`` this
file up to the cursor, ``<|fim_suffix|>`` the suffix, ``<|fim_middle|>``. Stable pieces come
first and each piece's inclusion depends only on the pieces before it, so typing on the cursor
line leaves everything before the prefix window unchanged and the engine's prefix KV cache
survives the keystroke (with FIM only the suffix after it is prefilled again). Context pieces
share a fixed part of the budget (``CONTEXT_SHARE``), independent of how long the prefix is; what
they leave goes to the prefix window, so the prompt fills its budget.

The code below the cursor matters most where a model is given only the prefix (at a line start,
Qwen2.5-Coder-0.5B completes left to right): emitters and handlers repeat their patterns further
down the same file, and without it a model sees none of them (``bench/cross_file.py``).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise

from ghostwright.inference.api import InfillPrompt, Snippet, at_line_edge, commented_snippet
from ghostwright.server.completion.recent_edits import RecentEdits
from ghostwright.server.completion.render import (
    SymbolIndex,
    below_pieces,
    definition_pieces,
    display_path,
    recent_pieces,
    similar_pieces,
)
from ghostwright.server.completion.trigger import completion_mode, should_trigger, stop_strings
from ghostwright.server.completion.windows import prefix_window, suffix_window
from ghostwright.server.context.document import Document
from ghostwright.server.context.secrets import ensure_not_secret, redact
from ghostwright.server.context.slicing import Slice, enclosing_slices, import_slices

__all__ = ["CompletionPrompt", "CrossFileContext", "PieceInfo", "build_completion_prompt", "should_trigger"]

CONTEXT_SHARE = 0.30  # of budget_tokens, for header, imports, definitions, edits, signatures
SUFFIX_SHARE = 0.15  # of budget_tokens, for the suffix (sent with FIM, else only kept)
# Of the context share, what similar code from other files may take first: it is the piece that moved
# cross-file exact match (bench/cross_file.py), but definitions and recent edits need room too.
SIMILAR_SHARE = 0.5


@dataclass(frozen=True)
class PieceInfo:
    kind: str  # header | imports | below | similar | definition | recent | enclosing | prefix | suffix
    tokens: int
    detail: str = ""  # a path or a name, for logs


@dataclass(frozen=True)
class CompletionPrompt:
    prompt: InfillPrompt
    prefix: str  # the prefix window as sent (redacted): the text the completion continues
    suffix: str  # the suffix window (redacted): sent with FIM, used by the post-processor
    mode: str  # "single" | "multi"
    stop: list[str]
    pieces: list[PieceInfo]
    context: CrossFileContext  # what was gathered from other files, packed or not: reusable while typing on


@dataclass(frozen=True)
class CrossFileContext:
    """Snippets as gathered for one cursor, before packing: (kind, path, code), this file's code below
    the cursor first, then similar code from other files, then definitions (recent edits are chosen
    anew for every build). Handing it back to the next build keeps the prompt's head, and so the
    engine's KV cache, the same while the user types on (see
    :mod:`ghostwright.server.completion.sticky_context`)."""

    pieces: tuple[tuple[str, str, str], ...]


def build_completion_prompt(
    doc: Document,
    offset: int,
    *,
    index: SymbolIndex | None,
    recent_edits: RecentEdits | None,
    count_tokens: Callable[[str], int],
    budget_tokens: int,
    fim: bool = False,
    fim_at_line_start: bool = True,
    repo: str = "",
    time_budget_s: float = 0.05,
    reuse_context: CrossFileContext | None = None,
) -> CompletionPrompt:
    """The prompt for a completion at str index ``offset`` of ``doc``, within ``budget_tokens``.
    ``fim``: the model reads the suffix, so it gets a share of the budget (unless the cursor
    starts a line and the model is given only the prefix there: ``fim_at_line_start``).
    ``reuse_context``: another build's cross-file context, used instead of gathering it anew."""
    ensure_not_secret(doc.path)
    fim = fim and (fim_at_line_start or not at_line_edge(doc.text, offset))
    piece_s = time_budget_s / 6  # six slices, each with its own deadline

    def deadline() -> float:
        return time.monotonic() + piece_s

    count_tokens = functools.lru_cache(maxsize=4096)(count_tokens)  # the window is sized up to three times
    suffix_budget = int(budget_tokens * SUFFIX_SHARE)
    context_budget = int(budget_tokens * CONTEXT_SHARE)
    after = suffix_window(doc, offset, max_tokens=suffix_budget, count_tokens=count_tokens,
                          deadline=deadline())
    pieces = _Pieces(count_tokens, context_budget)
    comment = doc.spec.comment if doc.spec else None
    here = display_path(doc.path or doc.uri, index)
    snippets: list[Snippet] = []
    head: list[str] = []  # this file's own lines above the prefix window
    context = CrossFileContext(())
    header = f"{comment} Path: {here}\n" if comment is not None else ""
    unpaid = 0  # the header is rendered even when the budget is too small to pay for it

    def window_for(used: int) -> Slice:
        """The prefix window in what the pieces leave: the budget a piece does not use goes to the
        prefix, which is what the model reads most closely (a prefix-only peer gets all of it)."""
        spare = budget_tokens - used - unpaid - (suffix_budget if fim else 0)
        return prefix_window(doc, offset, max_tokens=spare, count_tokens=count_tokens, deadline=deadline())

    if comment is None:
        window = window_for(0)
    else:
        if not pieces.take("header", header, here):
            unpaid = count_tokens(header)
        below = (after.end_line if fim else doc.lines.line_of(offset)) + 1  # past what the model reads
        context = reuse_context or CrossFileContext((
            *(("below", p, c) for p, c in below_pieces(doc, offset, below, here)),
            *(("similar", p, c) for p, c in similar_pieces(doc, offset, index, here)),
            *(("definition", p, c) for p, c in definition_pieces(doc, offset, index, here, deadline()))))
        # Recent edits are not kept: those in this document are chosen against the current windows
        # (kept, one could repeat the lines being edited), and they cost no lookup. They are chosen
        # against the widest window this build can have, so none repeats lines the prefix shows.
        widest = window_for(0)
        recent = [("recent", p, c) for p, c in recent_pieces(doc, widest.start_line, after.end_line, recent_edits,
                                                              index)]
        similar_cap = int(context_budget * SIMILAR_SHARE)
        shown: list[Snippet] = []
        for kind, path, code in (*context.pieces, *recent):
            snippet = Snippet(path, redact(code))
            if kind in ("similar", "below"):  # this file's window is not capped, but leaves the others less
                if pieces.take(kind, commented_snippet(snippet, comment), path,
                               cap=similar_cap if kind == "similar" else None, capped=("below",)):
                    snippets.append(snippet)
                    shown.append(snippet)
            elif not _shown_in(snippet, shown) and pieces.take(kind, commented_snippet(snippet, comment), path):
                snippets.append(snippet)
        # This file's imports and enclosing signatures go in only where the window would not show
        # them; the window is then sized again in what they leave. It can only shrink, so what
        # went in stays above it.
        window = window_for(pieces.used)
        imports = [s for s in import_slices(doc, before_line=window.start_line, deadline=deadline())
                   if s.end_line < window.start_line]
        if imports and pieces.take("imports", _join_lines(imports) + "\n"):
            head.append(redact(_join_lines(imports) + "\n"))
        for piece in enclosing_slices(doc, offset, deadline=deadline()):
            if piece.end_line < window.start_line and pieces.take("enclosing", piece.text,
                                                                  f"lines {piece.start_line}-{piece.end_line}"):
                head.append(redact(piece.text))
        if head:
            window = window_for(pieces.used)
    suffix = redact(after.text)
    suffix_cost = count_tokens(suffix) if fim else 0
    prefix = _trim_top(redact(window.text), budget_tokens - pieces.used - unpaid - suffix_cost,
                       count_tokens)
    infos = [*pieces.infos, PieceInfo("prefix", count_tokens(prefix))]
    if fim:
        infos.append(PieceInfo("suffix", suffix_cost))
    mode = completion_mode(doc, offset)
    prompt = InfillPrompt("".join(head) + prefix, suffix, here, doc.language, comment, tuple(snippets), repo)
    return CompletionPrompt(prompt, prefix, suffix, mode, stop_strings(doc.spec, mode), infos, context)


class _Pieces:
    """Greedy packing in priority order: a piece that does not fit is skipped, not cut."""

    def __init__(self, count_tokens: Callable[[str], int], budget: int) -> None:
        self.count, self.left, self.used = count_tokens, budget, 0
        self.infos: list[PieceInfo] = []

    def take(self, kind: str, text: str, detail: str = "", cap: int | None = None,
             capped: tuple[str, ...] = ()) -> bool:
        """Whether ``text`` fits what is left (then it is counted as spent); ``cap``: the most that
        pieces of this kind (and of the ``capped`` kinds) may have spent together, this one included."""
        cost = self.count(redact(text))
        spent = sum(info.tokens for info in self.infos if info.kind == kind or info.kind in capped)
        if cost > self.left or (cap is not None and spent + cost > cap):
            return False
        self.left, self.used = self.left - cost, self.used + cost
        self.infos.append(PieceInfo(kind, cost, detail))
        return True


def _shown_in(snippet: Snippet, shown: list[Snippet]) -> bool:
    """Whether a window of similar code from the same file already shows the snippet's first line."""
    first = snippet.text.split("\n", 1)[0]
    return any(s.path == snippet.path and first.strip() and first in s.text.split("\n") for s in shown)


def _join_lines(slices: list[Slice]) -> str:
    """Slices in file order; a gap of lines between two becomes one blank line."""
    parts = [slices[0].text]
    for previous, current in pairwise(slices):
        parts.append(("\n" if current.start_line > previous.end_line + 1 else "") + current.text)
    return "".join(parts)


def _trim_top(prefix: str, budget: int, count_tokens: Callable[[str], int]) -> str:
    """Drop whole lines from the top until ``prefix`` fits; cut the last line only if alone."""
    while count_tokens(prefix) > budget and "\n" in prefix:
        prefix = prefix.split("\n", 1)[1]
    while count_tokens(prefix) > budget and prefix:
        prefix = prefix[max(1, len(prefix) // 8) :]
    return prefix
