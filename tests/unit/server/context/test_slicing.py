"""Slices around the cursor: imports, enclosing signatures, nearby identifiers, windows."""

from __future__ import annotations

import time

from ghostwright.server.completion.windows import prefix_window, suffix_window
from ghostwright.server.context.document import Document
from ghostwright.server.context.slicing import enclosing_slices, identifiers_near, import_slices

CURSOR = "<|cursor|>"
LATER = time.monotonic() + 3600  # a deadline that never passes


def count_tokens(text: str) -> int:
    return len(text.encode()) // 4 + 1


def doc_at(marked: str, language: str = "python", name: str = "a.py") -> tuple[Document, int]:
    offset = marked.index(CURSOR)
    return Document(f"file:///w/{name}", language, marked.replace(CURSOR, "")), offset


PY = '''import os
from a import (b,
    c)

x = 1
import sys


class Foo:
    """Foo doc."""

    def bar(self, y):
        """Bar doc."""
        z = y + 1
        <|cursor|>

def after():
    pass
'''


def test_import_slices_are_whole_lines_in_file_order() -> None:
    doc, _ = doc_at(PY)
    found = import_slices(doc, deadline=LATER)
    assert [(s.text, s.start_line, s.end_line) for s in found] == [
        ("import os\n", 0, 0),
        ("from a import (b,\n    c)\n", 1, 2),
        ("import sys\n", 5, 5),
    ]


def test_require_counts_as_an_import_in_javascript_and_lua() -> None:
    doc, _ = doc_at('const p = require("path");\nconst x = 1;\n<|cursor|>', "javascript", "a.js")
    assert [s.text for s in import_slices(doc, deadline=LATER)] == ['const p = require("path");\n']
    doc, _ = doc_at('local json = require("json")\nlocal n = 1\n<|cursor|>', "lua", "a.lua")
    found = [s.text for s in import_slices(doc, deadline=LATER)]
    assert found == ['local json = require("json")\n']


def test_enclosing_python_method_on_a_blank_line_after_its_body() -> None:
    doc, offset = doc_at(PY)
    found = enclosing_slices(doc, offset, deadline=LATER)
    assert [s.text for s in found] == [
        'class Foo:\n    """Foo doc."""\n',
        '    def bar(self, y):\n        """Bar doc."""\n',
    ]
    assert [(s.start_line, s.end_line) for s in found] == [(8, 9), (11, 12)]


def test_enclosing_python_dedented_cursor_leaves_the_method() -> None:
    doc, offset = doc_at(PY.replace("        <|cursor|>", "    <|cursor|>"))
    assert [s.text.splitlines()[0] for s in enclosing_slices(doc, offset, deadline=LATER)] == [
        "class Foo:"
    ]


def test_enclosing_is_empty_at_top_level_and_in_a_signature() -> None:
    doc, offset = doc_at("def f(a, <|cursor|>):\n    pass\n")
    assert enclosing_slices(doc, offset, deadline=LATER) == []
    doc, offset = doc_at("def f():\n    pass\n<|cursor|>")
    assert enclosing_slices(doc, offset, deadline=LATER) == []


def test_enclosing_brace_languages_with_doc_comments() -> None:
    source = """// Adds.
int add(int a, int b) {
    int c = a + b;
    <|cursor|>
}
int after(void) { return 0; }
"""
    doc, offset = doc_at(source, "c", "a.c")
    assert [s.text for s in enclosing_slices(doc, offset, deadline=LATER)] == [
        "// Adds.\nint add(int a, int b) {\n"
    ]
    doc, offset = doc_at(source.replace("<|cursor|>\n}", "\n}<|cursor|>"), "c", "a.c")
    assert enclosing_slices(doc, offset, deadline=LATER) == []


def test_enclosing_java_class_and_method() -> None:
    source = "class A {\n  /** M. */\n  void m() {\n    <|cursor|>\n  }\n}\n"
    doc, offset = doc_at(source, "java", "A.java")
    assert [s.text for s in enclosing_slices(doc, offset, deadline=LATER)] == [
        "class A {\n", "  /** M. */\n  void m() {\n"
    ]


def test_identifiers_near_are_ranked_by_distance_and_skip_the_cursor_line() -> None:
    source = "far = 1\nalpha = beta(gamma)\ncur = typing_now<|cursor|>\ndelta = eps\n"
    doc, offset = doc_at(source)
    names = identifiers_near(doc, offset, deadline=LATER)
    assert names == ["alpha", "beta", "gamma", "delta", "eps", "far"]


def test_identifiers_near_without_a_tree_use_words() -> None:
    doc, offset = doc_at("alpha beta\nnow<|cursor|>\n", "plaintext", "a.txt")
    assert identifiers_near(doc, offset, deadline=LATER) == ["alpha", "beta"]


def test_prefix_window_starts_at_a_statement_in_the_cursor_block() -> None:
    source = (
        "def first():\n"
        "    value = compute(\n"
        "        1,\n"
        "        2)\n"
        "    return value\n"
        "\n"
        "def second():\n"
        "    total = 0\n"
        "    <|cursor|>"
    )
    doc, offset = doc_at(source)
    whole = prefix_window(doc, offset, max_tokens=1000, count_tokens=count_tokens, deadline=LATER)
    assert whole.start_line == 0 and whole.text == source.replace(CURSOR, "")
    # A budget that reaches into "first" but not its top: never start mid-call or mid-body.
    cut = prefix_window(doc, offset, max_tokens=22, count_tokens=count_tokens, deadline=LATER)
    assert cut.text.startswith("def second():\n")
    assert cut.start_line == 6 and cut.end_line == 8


def test_prefix_window_start_is_stable_while_typing_on_the_cursor_line() -> None:
    source = "\n".join(f"x{i} = {i}" for i in range(200)) + "\nresult = <|cursor|>"
    doc, offset = doc_at(source)
    start = prefix_window(doc, offset, max_tokens=100, count_tokens=count_tokens, deadline=LATER)
    for typed in ("f", "foo(", "foo(x1, x2, x3"):
        longer, at = doc_at(source.replace(CURSOR, typed + CURSOR))
        window = prefix_window(longer, at, max_tokens=100, count_tokens=count_tokens,
                               deadline=LATER)
        assert window.start_line == start.start_line
        assert window.text == start.text + typed


def test_prefix_window_deadline_keeps_the_cursor_line() -> None:
    doc, offset = doc_at("a = 1\nb = 2\nc = <|cursor|>")
    window = prefix_window(doc, offset, max_tokens=100, count_tokens=count_tokens, deadline=0.0)
    assert window.text == "c = "


def test_suffix_window_ends_on_a_line_boundary() -> None:
    doc, offset = doc_at("x = f(<|cursor|>)\n" + "".join(f"line{i}\n" for i in range(100)))
    after = suffix_window(doc, offset, max_tokens=10, count_tokens=count_tokens, deadline=LATER)
    assert after.text.startswith(")\nline0\n")
    assert after.text.endswith("\n")
    assert count_tokens(after.text) <= 12
    everything = suffix_window(doc, offset, max_tokens=10_000, count_tokens=count_tokens,
                               deadline=LATER)
    assert everything.text == doc.text[offset:]
