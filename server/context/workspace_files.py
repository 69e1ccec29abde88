"""Which files of a workspace the index may read: .gitignore honoured, junk and secrets skipped.

Gitignore patterns are matched by ``pathspec`` (the same matcher black and many others
use); this module only applies git's layering: each directory's ``.gitignore`` speaks
for paths below it, the deepest file that has an opinion wins, and nothing inside an
ignored directory can be re-included. ``.git/info/exclude`` counts as a root pattern file.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pathspec

from ghostwright.server.context.languages import known_extensions
from ghostwright.server.context.secrets import is_secret_file

DEFAULT_MAX_FILE_BYTES = 1_000_000
# Generated, vendored and tool directories: never indexed, whatever .gitignore says.
SKIP_DIRS = frozenset({
    ".git", ".hg", ".svn", "node_modules", ".venv", "venv", "dist", "build", "__pycache__",
    ".mypy_cache", ".pytest_cache", ".ruff_cache", ".tox", ".idea", ".vscode", "target",
    "vendor", "third_party", ".next", ".cache", "coverage",
})


class IgnoreRules:
    """Gitignore matching for one root; per-directory specs are loaded once and cached."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._specs: dict[str, pathspec.GitIgnoreSpec | None] = {}
        self._lock = threading.Lock()

    def invalidate(self) -> None:
        """Forget cached specs (a .gitignore changed)."""
        with self._lock:
            self._specs.clear()

    def ignored(self, relative: str, is_dir: bool) -> bool:
        """``relative`` ("/"-separated, from the root) is ignored by some .gitignore."""
        parts = relative.split("/")
        for depth in range(len(parts) - 1, -1, -1):  # deepest directory first
            spec = self._spec("/".join(parts[:depth]))
            if spec is None:
                continue
            tail = "/".join(parts[depth:]) + ("/" if is_dir else "")
            verdict = spec.check_file(tail).include
            if verdict is not None:
                return verdict
        return False

    def path_ignored(self, relative: str, is_dir: bool = False) -> bool:
        """Like :meth:`ignored`, also true when any parent directory is skipped or ignored."""
        parts = relative.split("/")
        for depth in range(1, len(parts)):
            parent = "/".join(parts[:depth])
            if parts[depth - 1] in SKIP_DIRS or self.ignored(parent, is_dir=True):
                return True
        return self.ignored(relative, is_dir)

    def _spec(self, directory: str) -> pathspec.GitIgnoreSpec | None:
        with self._lock:
            if directory in self._specs:
                return self._specs[directory]
        lines: list[str] = []
        base = self.root / directory if directory else self.root
        sources = [base / ".gitignore"] + ([base / ".git/info/exclude"] if not directory else [])
        for source in sources:
            try:
                lines += source.read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                continue
        spec = pathspec.GitIgnoreSpec.from_lines(lines) if lines else None
        with self._lock:
            self._specs[directory] = spec
        return spec


def indexable(path: Path, relative: str, rules: IgnoreRules, max_bytes: int) -> bool:
    """A source file in a known language, small, text, not secret, not ignored."""
    if path.suffix.lower() not in known_extensions() or is_secret_file(relative):
        return False
    if rules.path_ignored(relative):
        return False
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > max_bytes:
            return False
        with path.open("rb") as handle:
            return b"\0" not in handle.read(8192)
    except OSError:
        return False


def iter_files(
    root: Path, rules: IgnoreRules, *, start: Path | None = None,
    max_bytes: int = DEFAULT_MAX_FILE_BYTES, stop: threading.Event | None = None,
) -> Iterator[tuple[Path, str]]:
    """(path, relative path) of each indexable file under ``start`` (default: the root)."""
    pending = [start or root]
    while pending and not (stop and stop.is_set()):
        directory = pending.pop()
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            relative = Path(entry.path).relative_to(root).as_posix()
            if entry.is_dir(follow_symlinks=False):
                if entry.name not in SKIP_DIRS and not rules.ignored(relative, is_dir=True):
                    pending.append(Path(entry.path))
            elif entry.is_file(follow_symlinks=False) and _quick_ok(entry, relative, rules,
                                                                    max_bytes):
                yield Path(entry.path), relative


def _quick_ok(entry: os.DirEntry[str], relative: str, rules: IgnoreRules, max_bytes: int) -> bool:
    """:func:`indexable` for a walk, where the parents are already known not to be ignored."""
    if os.path.splitext(entry.name)[1].lower() not in known_extensions():
        return False
    if is_secret_file(relative) or rules.ignored(relative, is_dir=False):
        return False
    try:
        if entry.stat().st_size > max_bytes:
            return False
        with open(entry.path, "rb") as handle:
            return b"\0" not in handle.read(8192)
    except OSError:
        return False
