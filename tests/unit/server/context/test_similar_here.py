"""A file's own windows, cut from the editor's text: the best one, blank edges, nothing to show."""

from __future__ import annotations

from ghostwright.server.context.similar_code import WINDOW_LINES
from ghostwright.server.context.similar_here import best_window
from support.code_samples import INOTIFY_EMITTER, KQUEUE_EMITTER_SO_FAR

QUERY = KQUEUE_EMITTER_SO_FAR.split("\n", 1)[1]
FILLER = [f"constant_{n} = {n}" for n in range(30)]


def test_the_window_most_like_the_query_is_found_below_unrelated_lines() -> None:
    lines = [*FILLER, "", *INOTIFY_EMITTER.split("\n")]
    found = best_window(lines, QUERY)
    assert found is not None
    start, end, _ = found
    assert start >= len(FILLER) - WINDOW_LINES // 2 and end - start <= WINDOW_LINES
    shown = "\n".join(lines[start:end])
    assert "queue_event" in shown and lines[start].strip() and lines[end - 1].strip()


def test_nothing_alike_gives_nothing() -> None:
    assert best_window(FILLER, QUERY) is None
    assert best_window([], QUERY) is None
    assert best_window(FILLER, "") is None


def test_of_equal_windows_the_first_wins() -> None:
    block = INOTIFY_EMITTER.split("\n")[:WINDOW_LINES]
    found = best_window([*block, *block], "\n".join(block))
    assert found is not None and found[0] == 0 and 0 < found[2] <= 1
