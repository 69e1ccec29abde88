"""The recent-edits ring buffer."""

from __future__ import annotations

from ghostwright.server.completion.recent_edits import RecentEdits
from ghostwright.server.context.document import Document

TEXT = "".join(f"line{i}\n" for i in range(20))


def test_records_lines_around_the_edit_newest_first() -> None:
    recent = RecentEdits(capacity=3, context_lines=1)
    a = Document("file:///w/a.py", "python", TEXT)
    b = Document("file:///w/b.py", "python", TEXT)
    recent.record(a, 5)
    recent.record(b, 10)
    assert [(e.uri, e.start_line, e.end_line, e.text) for e in recent.entries()] == [
        ("file:///w/b.py", 9, 11, "line9\nline10\nline11"),
        ("file:///w/a.py", 4, 6, "line4\nline5\nline6"),
    ]


def test_edits_to_the_same_region_coalesce() -> None:
    recent = RecentEdits(context_lines=1)
    doc = Document("file:///w/a.py", "python", TEXT)
    for _ in range(5):
        recent.record(doc, 5)
    recent.record(doc, 6)
    recent.record(doc, 15)
    assert [e.start_line for e in recent.entries()] == [14, 5]


def test_capacity_is_fixed() -> None:
    recent = RecentEdits(capacity=2, context_lines=0)
    doc = Document("file:///w/a.py", "python", TEXT)
    for line in (1, 5, 9):
        recent.record(doc, line)
    assert [e.text for e in recent.entries()] == ["line9", "line5"]


def test_secret_files_blank_snippets_and_forget() -> None:
    recent = RecentEdits()
    recent.record(Document("file:///w/.env", "plaintext", "KEY=abc\n"), 0)
    recent.record(Document("file:///w/a.py", "python", "\n\n\n\n"), 1)
    assert recent.entries() == []
    recent.record(Document("file:///w/a.py", "python", TEXT), 99)  # clamped to the last line
    assert recent.entries()[0].text.endswith("line19")
    recent.forget("file:///w/a.py")
    assert recent.entries() == []
