"""The one position codec: LSP (line, UTF-16 character) <-> str index <-> UTF-8 bytes.

LSP counts characters in UTF-16 code units, Python indexes code points and tree-sitter
counts UTF-8 bytes, with rows split on "\\n" only. Every conversion goes through this
module so that an emoji ("😀" is 2 UTF-16 units, 1 code point, 4 bytes) cannot shift a
completion by a column somewhere else.

Out of range: a line past the last line raises :class:`RequestError`; a character past
the end of its line is clamped to the line end (LSP allows it), and a character that
falls inside a surrogate pair rounds down to the start of that code point, except for an
edit (:meth:`LineIndex.edit_offset`), which splits the pair as the client's UTF-16 buffer does.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from itertools import accumulate

from ghostwright.errors import RequestError

# LSP line terminators: "\r\n", "\r" and "\n".
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# Strings may hold lone surrogates when a client splits a pair; keep them as bytes.
_ENCODING = ("utf-8", "surrogatepass")
_SURROGATE = re.compile("[\ud800-\udfff]")


def utf8_len(text: str) -> int:
    """Bytes that ``text`` takes in the UTF-8 buffer tree-sitter parses."""
    return len(text.encode(*_ENCODING))


def utf16_len(text: str) -> int:
    """UTF-16 code units of ``text``: what an LSP ``character`` counts."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def utf16_to_index(line: str, character: int) -> int:
    """Index into ``line`` for a UTF-16 column; clamped to the line length."""
    if line.isascii():
        return min(character, len(line))
    units = 0
    for index, char in enumerate(line):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > character:
            return index
    return len(line)


def utf16_split(line: str, character: int) -> tuple[int, bool]:
    """Index into ``line`` for a UTF-16 column, and whether the column falls between the two
    halves of the astral code point at that index; clamped to the line length."""
    if line.isascii():
        return min(character, len(line)), False
    units = 0
    for index, char in enumerate(line):
        width = 2 if ord(char) > 0xFFFF else 1
        units += width
        if units > character:
            return index, units - width != character
    return len(line), False


def join_surrogates(text: str) -> str:
    """``text`` with each high + low surrogate pair written as the one code point it encodes
    (lone halves stay): two strings with the same UTF-16 units become the same str."""
    if text.isascii() or not _SURROGATE.search(text):
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


def _starts_after(parts: list[str] | list[bytes]) -> list[int]:
    """Start of each part of a text split on a one-character separator (C-speed loops)."""
    return [0, *accumulate(map((1).__add__, map(len, parts[:-1])))]


class LineIndex:
    """Line starts of one text, for O(log n) conversions between the three encodings."""

    def __init__(self, text: str) -> None:
        self.text = text
        # LSP lines (any terminator) and tree-sitter rows ("\n" only) differ only for a lone "\r".
        self._rows = _starts_after(text.split("\n"))
        self._starts = self._rows
        if "\r" in text:
            self._starts = [0] + [m.end() for m in _LINE_BREAK.finditer(text)]
        self._row_bytes: list[int] | None = None  # byte offset of each row start, built on demand

    @property
    def line_count(self) -> int:
        return len(self._starts)

    def line_start(self, line: int) -> int:
        return self._starts[line]

    def line_end(self, line: int) -> int:
        """Index of the end of ``line``, before its terminator."""
        if line + 1 >= len(self._starts):
            return len(self.text)
        end = self._starts[line + 1]
        if self.text.startswith("\r\n", end - 2) and end - 2 >= self._starts[line]:
            return end - 2
        return end - 1

    def line_text(self, line: int) -> str:
        return self.text[self._starts[line] : self.line_end(line)]

    def line_of(self, offset: int) -> int:
        """The LSP line that holds str index ``offset``."""
        self._check_offset(offset)
        return bisect_right(self._starts, offset) - 1

    def offset(self, line: int, character: int) -> int:
        """str index of an LSP position.

        ``(line_count, 0)`` is accepted as the end of the document, because clients send it
        as the end of a whole-document range.
        """
        if line < 0 or character < 0:
            raise RequestError(f"position ({line}, {character}) is negative")
        if line >= self.line_count:
            if line == self.line_count and character == 0:
                return len(self.text)
            raise RequestError(
                f"line {line} is past the end of the document ({self.line_count} lines)"
            )
        start = self._starts[line]
        return start + utf16_to_index(self.text[start : self.line_end(line)], character)

    def edit_offset(self, line: int, character: int) -> tuple[int, bool]:
        """Like :meth:`offset`, for one end of an edit's range: the str index, and whether the
        position falls inside the surrogate pair at that index (the edit then splits it)."""
        if line >= self.line_count or line < 0 or character < 0:
            return self.offset(line, character), False  # the end of the document, or RequestError
        start = self._starts[line]
        index, inside = utf16_split(self.text[start : self.line_end(line)], character)
        return start + index, inside

    def position(self, offset: int) -> tuple[int, int]:
        """LSP (line, UTF-16 character) of str index ``offset``."""
        line = self.line_of(offset)
        start = self._starts[line]
        return line, utf16_len(self.text[start : min(offset, self.line_end(line))])

    def byte_offset(self, offset: int) -> int:
        """UTF-8 byte offset of str index ``offset`` (tree-sitter's start_byte/end_byte)."""
        self._check_offset(offset)
        row = bisect_right(self._rows, offset) - 1
        return self._row_starts_in_bytes()[row] + utf8_len(self.text[self._rows[row] : offset])

    def point(self, offset: int) -> tuple[int, int]:
        """Tree-sitter point (row, byte column) of str index ``offset``."""
        self._check_offset(offset)
        row = bisect_right(self._rows, offset) - 1
        return row, utf8_len(self.text[self._rows[row] : offset])

    def offset_of_point(self, row: int, column: int) -> int:
        """str index of a tree-sitter point; a column inside a code point rounds down."""
        if not 0 <= row < len(self._rows):
            rows = len(self._rows)
            raise RequestError(f"row {row} is past the end of the document ({rows} rows)")
        start = self._rows[row]
        end = self._rows[row + 1] if row + 1 < len(self._rows) else len(self.text)
        head = self.text[start:end].encode(*_ENCODING)[:column]
        for cut in range(4):  # a column inside a multi-byte code point rounds down
            try:
                return start + len(head[: len(head) - cut].decode(*_ENCODING))
            except UnicodeDecodeError:
                continue
        raise RequestError(f"byte column {column} of row {row} is not valid UTF-8")

    def offset_of_byte(self, byte: int) -> int:
        """str index of a UTF-8 byte offset (a node's start_byte or end_byte)."""
        row_bytes = self._row_starts_in_bytes()
        row = bisect_right(row_bytes, byte) - 1
        return self.offset_of_point(row, byte - row_bytes[row])

    def _row_starts_in_bytes(self) -> list[int]:
        if self._row_bytes is None:  # rows split on "\n", the same in str and in UTF-8
            self._row_bytes = _starts_after(self.text.encode(*_ENCODING).split(b"\n"))
        return self._row_bytes

    def _check_offset(self, offset: int) -> None:
        if not 0 <= offset <= len(self.text):
            raise RequestError(
                f"offset {offset} is outside the document ({len(self.text)} characters)"
            )
