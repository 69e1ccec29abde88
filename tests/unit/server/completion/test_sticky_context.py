"""When a document's cross-file context is reused, and when it is gathered anew."""

from __future__ import annotations

from ghostwright.server.completion.prompt import CrossFileContext
from ghostwright.server.completion.sticky_context import MAX_AGE_S, NEAR_LINES, PAUSE_S, StickyContext

CONTEXT = CrossFileContext((("similar", "a.py", "x = 1\n"),))
URI = "file:///w/b.py"


def test_a_burst_of_typing_near_the_gathered_line_reuses_it() -> None:
    sticky = StickyContext()
    assert not sticky.arrived(URI, 0.0)  # the first request follows nothing
    assert sticky.reusable(URI, 10, 0.0) is None
    sticky.keep(URI, 10, 0.0, CONTEXT)
    assert sticky.arrived(URI, 0.2)
    assert sticky.reusable(URI, 10 + NEAR_LINES, 0.2) is CONTEXT
    assert sticky.reusable(URI, 10 - NEAR_LINES, 0.2) is CONTEXT


def test_a_pause_ends_the_burst() -> None:
    sticky = StickyContext()
    sticky.arrived(URI, 0.0)
    assert not sticky.arrived(URI, PAUSE_S)
    assert sticky.arrived(URI, PAUSE_S + 0.1)


def test_moving_away_or_a_long_burst_gathers_anew() -> None:
    sticky = StickyContext()
    sticky.keep(URI, 10, 0.0, CONTEXT)
    assert sticky.reusable(URI, 11 + NEAR_LINES, 1.0) is None
    assert sticky.reusable(URI, 10, MAX_AGE_S) is None
    assert sticky.reusable("file:///w/other.py", 10, 1.0) is None


def test_a_closed_document_keeps_nothing() -> None:
    sticky = StickyContext()
    sticky.arrived(URI, 0.0)
    sticky.keep(URI, 10, 0.0, CONTEXT)
    sticky.forget(URI)
    assert sticky.reusable(URI, 10, 0.1) is None and not sticky.arrived(URI, 0.1)
