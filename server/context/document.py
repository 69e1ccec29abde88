"""One open document: its text, its version and a tree-sitter tree kept in step with edits.

LSP sends incremental changes as (range, text) with UTF-16 positions. Each change is
applied to the text and described to the old tree (``Tree.edit``), then the document is
reparsed once with the edited tree as a hint, so a keystroke in a large file costs a few
hundred microseconds instead of a full parse (the llm-ls ``document.rs`` design). A test
checks that the incremental tree equals a fresh parse after random edits, emoji included.

Documents larger than ``max_parse_bytes`` keep ``tree = None``: slicing then works on
lines only, and a 5 MB generated file never stalls the server.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname

from tree_sitter import Tree

from ghostwright.errors import RequestError
from ghostwright.server.context.languages import LanguageSpec, new_parser, spec_for
from ghostwright.server.context.positions import LineIndex, join_surrogates, utf8_len

DEFAULT_MAX_PARSE_BYTES = 1_000_000

# ((start line, start character), (end line, end character)), UTF-16 characters as in LSP.
TextRange = tuple[tuple[int, int], tuple[int, int]]
# One content change: a range (None replaces the whole text) and the new text.
Change = tuple["TextRange | object | None", str]


def uri_to_path(uri: str) -> str | None:
    """Filesystem path of a ``file:`` URI; None for other schemes (``untitled:`` buffers)."""
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    return os.path.normpath(url2pathname(unquote(parsed.path)))


def _as_pairs(rng: object) -> TextRange:
    """Accept our tuple form or anything shaped like an lsprotocol ``Range``."""
    start, end = (rng.start, rng.end) if hasattr(rng, "start") else rng  # type: ignore[attr-defined,misc]
    if hasattr(start, "line"):
        return (start.line, start.character), (end.line, end.character)
    return (int(start[0]), int(start[1])), (int(end[0]), int(end[1]))


class Document:
    """Text + tree of one open file. Mutated on the server's main thread only."""

    def __init__(
        self,
        uri: str,
        language_id: str,
        text: str,
        version: int = 0,
        *,
        max_parse_bytes: int = DEFAULT_MAX_PARSE_BYTES,
    ) -> None:
        self.uri = uri
        self.language_id = language_id
        self.version = version
        self.path = uri_to_path(uri)
        self.spec: LanguageSpec | None = spec_for(language_id, self.path or uri)
        self.max_parse_bytes = max_parse_bytes
        self._parser = new_parser(self.spec)
        self._text = join_surrogates(text)
        self._lines: LineIndex | None = None
        self._source: bytes | None = None
        self._tree: Tree | None = None  # edited in step with the text, reparsed on demand
        self._stale = True

    @property
    def tree(self) -> Tree | None:
        """The syntax tree of the current text; None for plain text or a too-large document.

        Reparsed lazily: a burst of keystrokes costs one ``Tree.edit`` each and a single
        incremental parse when a completion asks for the tree.
        """
        if self._stale:
            self._tree, self._stale = self._parse(self._tree), False
        return self._tree

    @property
    def text(self) -> str:
        return self._text

    @property
    def language(self) -> str | None:
        """Our language name (``"python"``, ``"tsx"``...), None for plain text."""
        return self.spec.name if self.spec else None

    @property
    def source(self) -> bytes:
        """The UTF-8 bytes tree-sitter parsed (cached until the next change)."""
        if self._source is None:
            self._source = self._text.encode("utf-8", "surrogatepass")
        return self._source

    @property
    def lines(self) -> LineIndex:
        if self._lines is None:
            self._lines = LineIndex(self._text)
        return self._lines

    def offset_at(self, line: int, character: int) -> int:
        return self.lines.offset(line, character)

    def position_at(self, offset: int) -> tuple[int, int]:
        return self.lines.position(offset)

    def apply_change(self, rng: TextRange | object | None, new_text: str) -> None:
        """Apply one LSP content change; ``rng=None`` replaces the whole text."""
        self.apply_changes([(rng, new_text)])

    def apply_changes(self, changes: Iterable[Change], version: int | None = None) -> None:
        """Apply LSP content changes in order; the tree is edited now and reparsed on demand.

        Each change is described to the tree in the coordinates of the text it applies to,
        so several edits cost one incremental parse. A batch applies whole or not at all: a
        change that cannot apply (a line past the end, a range that ends before it starts)
        raises :class:`RequestError` and leaves text, tree and version as they were.
        """
        before, applied = self._text, 0
        try:
            for rng, new_text in changes:
                if rng is None:
                    self._text, self._lines, self._source, self._tree = join_surrogates(new_text), None, None, None
                    self._stale = True
                else:
                    self._replace(*self._span(rng, new_text))
                applied += 1
        except RequestError:
            if applied:  # the tree was edited for text that is gone: parse afresh
                self._text, self._lines, self._source, self._tree, self._stale = before, None, None, None, True
            raise
        if version is not None:
            self.version = version

    def _span(self, rng: TextRange | object, new_text: str) -> tuple[int, int, str]:
        """The str range a change replaces and the text it writes there, in UTF-16 terms.

        A position between the halves of a surrogate pair splits the pair (the client's UTF-16
        buffer does), and a lone half next to the edit joins its other half when the edit
        brings one: the text stays what the client holds, with pairs as single code points.
        """
        (sl, sc), (el, ec) = _as_pairs(rng)
        (start, start_inside), (end, end_inside) = self.lines.edit_offset(sl, sc), self.lines.edit_offset(el, ec)
        if (end, end_inside) < (start, start_inside):
            raise RequestError(f"change range ends before it starts: ({sl},{sc})-({el},{ec})")
        text = self._text
        if start_inside:  # keep the pair's first half before the new text
            new_text = _halves(text[start])[0] + new_text
        if end_inside:  # and its second half after it
            new_text, end = new_text + _halves(text[end])[1], end + 1
        if start > 0 and _is_surrogate(text[start - 1]):
            start, new_text = start - 1, text[start - 1] + new_text
        if end < len(text) and _is_surrogate(text[end]):
            new_text, end = new_text + text[end], end + 1
        return start, end, join_surrogates(new_text)

    def _replace(self, start: int, end: int, new_text: str) -> None:
        """Replace ``text[start:end]`` and describe the edit to the tree."""
        if self._tree is not None:
            start_byte, start_point = _byte_and_point(self._text, start)
            self._tree.edit(
                start_byte=start_byte,
                old_end_byte=start_byte + utf8_len(self._text[start:end]),
                new_end_byte=start_byte + utf8_len(new_text),
                start_point=start_point,
                old_end_point=_end_point(start_point, self._text[start:end]),
                new_end_point=_end_point(start_point, new_text),
            )
        self._text = self._text[:start] + new_text + self._text[end:]
        self._lines, self._source, self._stale = None, None, True

    def _parse(self, old_tree: Tree | None) -> Tree | None:
        if self._parser is None or len(self.source) > self.max_parse_bytes:
            return None
        if old_tree is None:
            return self._parser.parse(self.source)
        return self._parser.parse(self.source, old_tree=old_tree)


def _halves(char: str) -> tuple[str, str]:
    """The high and low surrogates of an astral code point."""
    pair = char.encode("utf-16-le")
    return pair[:2].decode("utf-16-le", "surrogatepass"), pair[2:].decode("utf-16-le", "surrogatepass")


def _is_surrogate(char: str) -> bool:
    return "\ud800" <= char <= "\udfff"


def _byte_and_point(text: str, offset: int) -> tuple[int, tuple[int, int]]:
    """UTF-8 byte offset and tree-sitter point of ``offset``, without building a line table."""
    row_start = text.rfind("\n", 0, offset) + 1
    column = utf8_len(text[row_start:offset])
    return utf8_len(text[:row_start]) + column, (text.count("\n", 0, offset), column)


def _end_point(start: tuple[int, int], inserted: str) -> tuple[int, int]:
    """Tree-sitter point where ``inserted`` ends when written at ``start`` (rows split on \\n)."""
    newlines = inserted.count("\n")
    if newlines == 0:
        return start[0], start[1] + utf8_len(inserted)
    return start[0] + newlines, utf8_len(inserted[inserted.rfind("\n") + 1 :])
