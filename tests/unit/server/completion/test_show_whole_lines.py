"""When a multi-line suggestion that ran past its time is cut, and where."""

from __future__ import annotations

from ghostwright.server.completion.service import whole_lines_to_show


def test_a_finished_line_with_something_to_show_is_where_it_stops() -> None:
    assert whole_lines_to_show("if x:\n", "\n", "if x:\n") == "if x:\n"
    # A chunk may end one line and start the next: the started one is not shown.
    assert whole_lines_to_show("if x:\n    return 1\n    y", "\n    y", "if x:\n    return 1\n") \
        == "if x:\n    return 1\n"


def test_mid_line_or_nothing_shown_yet_keeps_decoding() -> None:
    assert whole_lines_to_show("if x:\n    ret", "ret", "if x:\n") is None
    assert whole_lines_to_show("\n\n", "\n", "") is None  # blank lines only: nothing to show yet


def test_a_line_that_opens_a_block_is_not_where_it_stops() -> None:
    opener = r":\s*(#.*)?$"  # Python's, from the language table
    raw = "if n <= 1:\n"
    assert whole_lines_to_show(raw, "\n", raw, opener) is None
    raw += "        return False\n"
    assert whole_lines_to_show(raw, "\n", raw, opener) == raw
