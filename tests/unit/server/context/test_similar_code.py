"""Similar-code windows: ranking, exclusion, overlap, updates and the text cap."""

from __future__ import annotations

from ghostwright.server.context.similar_code import (
    WINDOW_LINES,
    SimilarCode,
    identifier_hashes,
    query_lines,
)
from support.code_samples import INOTIFY_EMITTER, KQUEUE_EMITTER_SO_FAR

INOTIFY = INOTIFY_EMITTER + """\
        elif event.is_modify:
            cls = DirModifiedEvent if event.is_directory else FileModifiedEvent
            self.queue_event(cls(src_path))
"""

UNRELATED = """\
def render_table(rows, widths):
    out = []
    for row in rows:
        cells = [str(c).ljust(w) for c, w in zip(row, widths)]
        out.append(" | ".join(cells))
    return "\\n".join(out)
"""

QUERY = KQUEUE_EMITTER_SO_FAR.split("\n", 1)[1]  # the method, without its class line


def test_the_window_sharing_the_most_identifiers_comes_first() -> None:
    store = SimilarCode()
    store.update("observers/inotify.py", INOTIFY)
    store.update("utils/table.py", UNRELATED)
    found = store.query(QUERY, limit=2)
    assert [m.path for m in found] == ["observers/inotify.py"]  # the table shares nothing worth showing
    assert "self.queue_event(cls(src_path, dest_path))" in found[0].text
    assert 0.15 <= found[0].score <= 1.0
    assert found[0].text == "\n".join(INOTIFY.split("\n")[found[0].start_line : found[0].end_line]) + "\n"


def test_the_file_being_edited_is_never_its_own_context() -> None:
    store = SimilarCode()
    store.update("observers/inotify.py", INOTIFY)
    store.update("observers/kqueue.py", QUERY)
    assert [m.path for m in store.query(QUERY, exclude="observers/kqueue.py")] == ["observers/inotify.py"]
    assert store.query(QUERY, exclude="observers/inotify.py")[0].path == "observers/kqueue.py"


def test_overlapping_windows_of_one_file_count_once() -> None:
    long_file = "\n".join(INOTIFY.split("\n") * 1 + ["", ""] + UNRELATED.split("\n") * 4)
    store = SimilarCode()
    store.update("a.py", long_file)
    found = store.query(QUERY, limit=3)
    for first in found:
        for second in found:
            if first is not second and first.path == second.path:
                assert first.end_line <= second.start_line or second.end_line <= first.start_line


def test_updates_and_removals_are_seen_by_the_next_query() -> None:
    store = SimilarCode()
    store.update("a.py", INOTIFY)
    assert store.query(QUERY)
    store.update("a.py", UNRELATED)
    assert store.query(QUERY) == []
    store.update("a.py", INOTIFY)
    store.remove("a.py")
    assert store.query(QUERY) == []


def test_files_past_the_text_cap_are_left_out_and_said_so() -> None:
    store = SimilarCode(max_text_bytes=len(INOTIFY) + 10)
    store.update("a.py", INOTIFY)
    store.update("b.py", INOTIFY)
    assert store.full
    assert [m.path for m in store.query(QUERY, limit=5)] == ["a.py"]


def test_short_files_give_one_window_and_empty_queries_nothing() -> None:
    store = SimilarCode()
    store.update("short.py", "x = compute_total(items)\n")
    assert store.query("total = compute_total(items)", min_score=0.0)[0].end_line <= WINDOW_LINES
    assert store.query("   \n\n") == []
    assert SimilarCode().query(QUERY) == []


def test_identifier_hashes_are_stable_and_unique() -> None:
    first, again = identifier_hashes("a_b c a_b"), identifier_hashes("c a_b")
    assert list(first) == list(again) and len(first) == 2
    assert len(identifier_hashes("1x x")) == 1  # digits do not start an identifier


def test_the_query_is_the_last_non_blank_lines() -> None:
    lines = [f"line_{i}" for i in range(30)] + ["", "   "]
    assert query_lines(lines).split("\n") == [f"line_{i}" for i in range(18, 30)]


def test_a_repeated_query_is_answered_from_the_last_one_until_a_file_changes() -> None:
    store = SimilarCode()
    store.update("a.py", INOTIFY)
    first = store.query(QUERY)
    assert store.query(QUERY) is first  # the same line, the next keystroke: no search
    store.update("b.py", INOTIFY.replace("InotifyEmitter", "PollingEmitter"))
    again = store.query(QUERY, limit=3)
    assert again is not first and {m.path for m in again} == {"a.py", "b.py"}


def test_a_large_store_is_rebuilt_in_the_background_and_queries_never_wait() -> None:
    import time

    store = SimilarCode(sync_postings=0)  # every store counts as large
    store.update("a.py", INOTIFY)
    first = store.query(QUERY)  # answered from the (empty) windows there were; the rebuild started
    assert first == []
    deadline = time.monotonic() + 10
    while not store.query(QUERY) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert [m.path for m in store.query(QUERY)] == ["a.py"]
    store.update("b.py", INOTIFY)  # until the rebuild ends, queries search the windows of a.py alone
    while len(store.query(QUERY, limit=3)) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert {m.path for m in store.query(QUERY, limit=3)} == {"a.py", "b.py"}
