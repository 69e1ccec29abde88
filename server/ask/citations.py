"""Make every ``path:line`` in a generated answer point at a real line of the workspace.

A small model invents plausible citations: a file that does not exist, line 412 of a
200-line file, ``parser.py`` for ``src/lang/parser.py``. After generation each citation is
checked against the workspace: numbered references ``[2]`` become the ``path:line`` of
source 2, a bare file name that matches one source's path gets that path, a line past a
source file's end is moved to the nearest retrieved chunk of that file, and anything
still unresolvable is removed. A Sources list built from the retrieved chunks (real by
construction) is appended.

Pure: the workspace is reached only through ``line_count(path) -> int | None``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ghostwright.server.ask.chunks import SourceChunk
from ghostwright.server.ask.retrieval import BM25

LineCount = Callable[[str], "int | None"]

# src/a.py:12 or src/a.py:12-20 (not inside a URL or a longer word; extension starts with a letter)
CITATION = re.compile(r"(?<![\w/.:-])((?:[\w.-]+/)*[\w.-]*[\w-]\.[A-Za-z][A-Za-z0-9]*):(\d+)(?:-(\d+))?(?![\w:])")
_NUMBERED = re.compile(r"(?<![\w\])])\[(\d{1,2})\](?!\()")
_FENCE = re.compile(r"^([ \t]*(?:```|~~~))", re.MULTILINE)
_EMPTY = re.compile(r"\(\s*(?:see|in|at)?\s*\)|\[\s*\]")


@dataclass
class CitationReport:
    text: str
    kept: list[str] = field(default_factory=list)  # "path:line" as they stand in the text
    fixed: list[tuple[str, str]] = field(default_factory=list)  # (as written, as corrected)
    dropped: list[str] = field(default_factory=list)


def find_citations(text: str) -> list[tuple[str, int]]:
    """Every (path, 1-based line) cited in ``text``, ranges by their first line."""
    return [(m[1], int(m[2])) for m in CITATION.finditer(text)]


def resolve_numbered(text: str, sources: Sequence[SourceChunk], dropped: list[str] | None = None) -> str:
    """``[n]`` → `` `path:line` `` of source n, outside code fences; unknown numbers are removed
    (and listed in ``dropped``)."""

    def replace(match: re.Match[str]) -> str:
        number = int(match[1])
        if 1 <= number <= len(sources):
            return f"`{sources[number - 1].citation}`"
        if dropped is not None:
            dropped.append(match[0])
        return ""

    return outside_fences(text, lambda prose: _NUMBERED.sub(replace, prose))


def outside_fences(text: str, edit: Callable[[str], str]) -> str:
    """``text`` with ``edit`` applied to the prose only: fenced code blocks are left as they are."""
    parts = _FENCE.split(text)  # [prose, fence, code, fence, prose, ...]
    out, inside = [], False
    for index, part in enumerate(parts):
        if index % 2 == 1:  # a fence marker
            inside = not inside
            out.append(part)
        else:
            out.append(part if inside else edit(part))
    return "".join(out)


def validate(text: str, sources: Sequence[SourceChunk], line_count: LineCount) -> CitationReport:
    """Resolve numbered references, then check, fix or drop each ``path:line`` in ``text``."""
    report = CitationReport(text="")
    source_paths = sorted({s.path for s in sources})

    def check(match: re.Match[str]) -> str:
        written, path, line = match[0], match[1], int(match[2])
        path = _known_path(path, source_paths, line_count)
        count = line_count(path) if path is not None else None
        if path is None or count is None:
            report.dropped.append(written)
            return ""
        if 1 <= line <= count:
            end = int(match[3]) if match[3] else None
            fixed = f"{path}:{line}" + (f"-{min(end, count)}" if end and end > line else "")
        else:
            nearest = _nearest_chunk(path, line, sources)
            if nearest is None:
                report.dropped.append(written)
                return ""
            fixed = nearest.citation
        if fixed == written:
            report.kept.append(fixed)
        else:
            report.fixed.append((written, fixed))
        return fixed

    resolved = resolve_numbered(text, sources, report.dropped)
    checked = CITATION.sub(check, resolved)
    report.text = outside_fences(checked, _tidy) if report.dropped else checked
    return report


def attribute(text: str, sources: Sequence[SourceChunk]) -> str:
    """Give each prose paragraph without a citation one: the source that shares the most terms with it.

    The default model seldom cites on its own; a paragraph it wrote from a source is
    tied back to that source by BM25 over the sources (post-hoc attribution). Paragraphs
    that share no term with any source stay as they are.
    """
    if not sources:
        return text
    index = BM25(sources)

    def edit(prose: str) -> str:
        paragraphs = prose.split("\n\n")
        for number, paragraph in enumerate(paragraphs):
            body = paragraph.rstrip()
            if not body.strip() or CITATION.search(body) or body.lstrip().startswith("#"):
                continue
            best = index.search(body, k=1)
            if best:
                paragraphs[number] = f"{body} (`{best[0].chunk.citation}`)" + paragraph[len(body):]
        return "\n\n".join(paragraphs)

    return outside_fences(text, edit)


def sources_section(sources: Sequence[SourceChunk]) -> str:
    """A markdown list of the retrieved chunks, numbered as the prompt numbered them."""
    if not sources:
        return ""
    rows = [f"{n}. `{s.citation}`" + (f" {s.name}" if s.name else "") for n, s in enumerate(sources, 1)]
    return "**Sources**\n\n" + "\n".join(rows) + "\n"


def _known_path(path: str, source_paths: Sequence[str], line_count: LineCount) -> str | None:
    """``path`` itself when it is a workspace file, else the one source path that ends with it."""
    path = path.removeprefix("./")
    if line_count(path) is not None:
        return path
    matches = [p for p in source_paths if p.endswith("/" + path)]
    return matches[0] if len(matches) == 1 else None


def _nearest_chunk(path: str, line: int, sources: Sequence[SourceChunk]) -> SourceChunk | None:
    same = [s for s in sources if s.path == path]
    return min(same, key=lambda s: abs(s.start_line + 1 - line), default=None)


def _tidy(text: str) -> str:
    """Remove the husks a dropped citation leaves: empty brackets, doubled spaces."""
    text = _EMPTY.sub("", text.replace("``", ""))
    text = re.sub(r"[ \t]+([.,;:])", r"\1", text)
    return re.sub(r"(?<=\S)[ \t]{2,}", " ", text)
