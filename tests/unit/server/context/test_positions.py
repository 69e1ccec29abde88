"""The position codec: LSP UTF-16 positions, str indices, UTF-8 bytes and tree-sitter points."""

from __future__ import annotations

import pytest

from ghostwright.errors import RequestError
from ghostwright.server.context.positions import LineIndex, utf16_len, utf16_to_index

TEXT = "def f():\n    return '😀é'  # 中\n\nx = 1"


def reference_position(text: str, offset: int) -> tuple[int, int]:
    """Independent conversion: count lines by splitting, characters by UTF-16 encoding."""
    line = text[:offset].count("\n")
    start = text.rfind("\n", 0, offset) + 1
    return line, len(text[start:offset].encode("utf-16-le")) // 2


def test_ascii_positions_are_indices() -> None:
    index = LineIndex("ab\ncd\n")
    assert index.offset(0, 0) == 0
    assert index.offset(1, 1) == 4
    assert index.offset(2, 0) == 6
    assert index.line_count == 3


def test_emoji_counts_two_utf16_units() -> None:
    index = LineIndex("a😀b")
    assert utf16_len("a😀b") == 4
    assert index.offset(0, 1) == 1
    assert index.offset(0, 3) == 2  # after the pair: "b"
    assert index.position(2) == (0, 3)


def test_character_inside_a_surrogate_pair_rounds_down() -> None:
    assert utf16_to_index("a😀b", 2) == 1


def test_character_past_line_end_is_clamped() -> None:
    index = LineIndex("abc\ndef")
    assert index.offset(0, 99) == 3
    assert index.offset(1, 99) == 7


def test_line_past_the_end_raises_with_the_line_count() -> None:
    index = LineIndex("a\nb\nc")
    with pytest.raises(RequestError, match=r"line 57 is past the end of the document \(3 lines\)"):
        index.offset(57, 0)


def test_end_of_document_as_next_line_start_is_accepted() -> None:
    index = LineIndex("a\nb")
    assert index.offset(2, 0) == 3
    with pytest.raises(RequestError):
        index.offset(2, 1)


def test_negative_positions_and_offsets_raise() -> None:
    index = LineIndex("abc")
    with pytest.raises(RequestError):
        index.offset(-1, 0)
    with pytest.raises(RequestError):
        index.position(4)


def test_crlf_and_lone_cr_are_line_breaks() -> None:
    index = LineIndex("a\r\nb\rc")
    assert index.line_count == 3
    assert [index.line_text(n) for n in range(3)] == ["a", "b", "c"]
    assert index.offset(1, 5) == 4  # clamped before "\r"
    assert index.offset(2, 0) == 5
    assert index.point(5) == (1, 2)  # tree-sitter rows split on "\n" only: "b\r" is row 1


def test_position_round_trips_against_a_reference() -> None:
    index = LineIndex(TEXT)
    for offset in range(len(TEXT) + 1):
        line, character = index.position(offset)
        assert (line, character) == reference_position(TEXT, offset)
        assert index.offset(line, character) == offset


def test_bytes_and_points_round_trip() -> None:
    index = LineIndex(TEXT)
    for offset in range(len(TEXT) + 1):
        byte = index.byte_offset(offset)
        assert byte == len(TEXT[:offset].encode())
        row, column = index.point(offset)
        start = TEXT.rfind("\n", 0, offset) + 1
        assert (row, column) == (TEXT[:offset].count("\n"), len(TEXT[start:offset].encode()))
        assert index.offset_of_point(row, column) == offset
        assert index.offset_of_byte(byte) == offset


def test_byte_inside_a_code_point_rounds_down() -> None:
    index = LineIndex("é!")
    assert index.offset_of_point(0, 1) == 0
    assert index.offset_of_byte(2) == 1
