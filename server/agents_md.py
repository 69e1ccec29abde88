"""AGENTS.md: project instructions for the model, scoped by directory as OpenAI's Codex reads them.

An ``AGENTS.md`` speaks for the directory it sits in and everything below it. For a
document, every AGENTS.md from its workspace root down to the document's own directory
applies; where they disagree the deeper (more specific) file wins. We state that in the
text itself and put the deeper files last, closest to the task, because a small model
follows what it read most recently.

    text = instructions_for(Path("/repo/src/app/views.py"), [Path("/repo")])
    # "" when no AGENTS.md applies; otherwise a block ready to go into a system message

As in Codex, a directory's ``AGENTS.override.md`` (when not empty) replaces its
``AGENTS.md``: one file per directory. Files are read once and re-read when their
modification time or size changes (a stat per directory per call, no watcher needed);
values shaped like secrets are redacted before the text can reach a prompt. The
combined text is capped: when it is too long, the shallowest (least specific)
instructions are cut first.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ghostwright.server.context.secrets import redact

log = logging.getLogger(__name__)

FILE_NAMES = ("AGENTS.override.md", "AGENTS.md")  # per directory, the first non-empty one counts
DEFAULT_MAX_CHARS = 4000  # the default model's context is small: instructions must not crowd out code
MAX_FILE_BYTES = 64 * 1024  # read at most this much of one AGENTS.md
HEADER = ("Project instructions from AGENTS.md files. Each applies to its directory and below; "
          "a later (more specific) section overrides an earlier one where they disagree.")
COMPACT_HEADER = "Project rules (from AGENTS.md; a later rule overrides an earlier one):"
TRUNCATED = "[...]"


@dataclass(frozen=True)
class Section:
    """One AGENTS.md's instructions: ``scope`` is its directory relative to the root ("" for the root)."""

    scope: str
    text: str


def scope_chain(root: Path, directory: Path) -> list[Path]:
    """Directories from ``root`` down to ``directory`` (both included); [] if it is outside ``root``.

    Pure path arithmetic: both paths must already be absolute and normalised.
    """
    try:
        relative = directory.relative_to(root)
    except ValueError:
        return []
    chain = [root]
    for part in relative.parts:
        chain.append(chain[-1] / part)
    return chain


def owning_root(path: Path, roots: Sequence[Path]) -> Path | None:
    """The deepest root that contains ``path`` (nested workspace folders: the innermost owns it)."""
    owners = [root for root in roots if path == root or root in path.parents]
    return max(owners, key=lambda root: len(root.parts), default=None)


def render(sections: Sequence[Section], max_chars: int = DEFAULT_MAX_CHARS, *, compact: bool = False) -> str:
    """Sections ordered shallow → deep as one block of at most ``max_chars`` characters.

    Precedence decides what survives the cap: the deepest section is kept whole if it can
    be, then the next shallower one, and so on; the first section that does not fit is cut
    (keeping its beginning) and everything shallower is dropped.

    ``compact`` is for the small default model, which loses its way in nested markdown:
    one short header that states the precedence, then each file's instructions without
    titles or markdown headings, in the same order.
    """
    sections = [s for s in sections if _body(s.text, compact)]
    header = COMPACT_HEADER if compact else HEADER
    if not sections or max_chars <= len(header) + 2:
        return ""
    budget = max_chars - len(header) - 1
    kept: list[str] = []
    for depth, section in enumerate(reversed(sections)):
        title = "" if compact else _title(section.scope, overrides=depth < len(sections) - 1) + "\n"
        body = _body(section.text, compact)
        block = f"\n{title}{body}\n"
        if len(block) <= budget:
            kept.append(block)
            budget -= len(block)
            continue
        room = budget - len(title) - len(TRUNCATED) - 2
        if room > 40:  # a stub of a few words would mislead more than it guides
            kept.append(f"\n{title}{body[:room].rstrip()}{TRUNCATED}\n")
        break
    if not kept:
        return ""
    joined = "".join(reversed(kept))
    if compact:
        joined = joined.replace("\n\n", "\n").lstrip("\n")
    return (header + "\n" + joined).rstrip() + "\n"


def _body(text: str, compact: bool) -> str:
    if not compact:
        return text.strip()
    lines = [line.strip() for line in text.splitlines()]
    return "\n".join(line for line in lines if line and not line.startswith("#"))


def _title(scope: str, *, overrides: bool) -> str:
    where = f"{scope}/" if scope else "the whole project"
    return f"## AGENTS.md for {where}" + (" (overrides the sections above)" if overrides else "")


class AgentsInstructions:
    """Reads and caches AGENTS.md files; thread-safe (hover, ask and actions call it concurrently)."""

    def __init__(self, file_names: Sequence[str] = FILE_NAMES) -> None:
        self.file_names = tuple(file_names)
        self._cache: dict[Path, tuple[tuple[int, int], str]] = {}  # path -> ((mtime_ns, size), text)
        self._lock = threading.Lock()

    def sections_for(self, path: Path, roots: Sequence[Path]) -> list[Section]:
        """The AGENTS.md sections that apply to ``path`` (a file or a directory), shallow → deep."""
        path = Path(os.path.abspath(path))
        root = owning_root(path, [Path(os.path.abspath(r)) for r in roots])
        if root is None:
            return []
        directory = path if path.is_dir() else path.parent
        sections = []
        for folder in scope_chain(root, directory):
            text = next((found for name in self.file_names if (found := self._read(folder / name).strip())), "")
            if text:
                scope = folder.relative_to(root).as_posix()
                sections.append(Section("" if scope == "." else scope, text))
        return sections

    def instructions_for(self, path: Path, roots: Sequence[Path], max_chars: int = DEFAULT_MAX_CHARS, *,
                         compact: bool = False) -> str:
        """The combined, capped, secret-scrubbed instructions for ``path``; "" when none apply."""
        return render(self.sections_for(path, roots), max_chars, compact=compact)

    def invalidate(self, path: Path | None = None) -> None:
        """Forget one cached file (or all): for callers that learn of a change before its mtime moves."""
        with self._lock:
            if path is None:
                self._cache.clear()
            else:
                self._cache.pop(Path(os.path.abspath(path)), None)

    def _read(self, file: Path) -> str:
        try:
            stat = file.stat()
        except OSError:
            with self._lock:
                self._cache.pop(file, None)
            return ""
        key = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            cached = self._cache.get(file)
        if cached is not None and cached[0] == key:
            return cached[1]
        if not file.is_file():
            return ""
        try:
            with file.open("rb") as handle:
                raw = handle.read(MAX_FILE_BYTES)
        except OSError as exc:
            log.warning("cannot read %s: %s", file, exc)
            return ""
        text = redact(raw.decode("utf-8", errors="replace").replace("\r\n", "\n"))
        with self._lock:
            self._cache[file] = (key, text)
        return text


_default = AgentsInstructions()


def instructions_for(path: Path, roots: Sequence[Path], max_chars: int = DEFAULT_MAX_CHARS, *,
                     compact: bool = False) -> str:
    """Module-level shortcut over a process-wide cache; see :meth:`AgentsInstructions.instructions_for`."""
    return _default.instructions_for(path, roots, max_chars, compact=compact)


def invalidate(path: Path | None = None) -> None:
    """Forget cached AGENTS.md text in the process-wide cache."""
    _default.invalidate(path)


def workspace_roots(server: object) -> list[Path]:
    """The roots a language server knows (today the one from ``initialize``); [] before that."""
    root = getattr(server, "workspace_root", None)
    return [Path(root)] if root is not None else []
