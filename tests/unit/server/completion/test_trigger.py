"""When to complete, and whether one line or a block."""

from __future__ import annotations

import pytest

from ghostwright.server.completion.trigger import completion_mode, should_trigger, stop_strings
from ghostwright.server.context.document import Document
from ghostwright.server.context.languages import spec_for

CURSOR = "<|cursor|>"


def doc_at(marked: str, name: str) -> tuple[Document, int]:
    spec = spec_for(None, name)
    text = marked.replace(CURSOR, "")
    return Document(f"file:///w/{name}", spec.name if spec else "plaintext", text), marked.index(
        CURSOR
    )


@pytest.mark.parametrize(
    ("marked", "name", "automatic", "expected"),
    [
        ("x = foo(<|cursor|>)", "a.py", True, True),
        ("x = '<|cursor|>'", "a.py", True, True),
        ("x = <|cursor|>", "a.py", True, True),
        ("x = <|cursor|>foo(1)", "a.py", True, False),
        ("x = <|cursor|>foo(1)", "a.py", False, True),
        ("if (a<|cursor|> && b) {", "a.js", True, False),
        ("call(x<|cursor|>);", "a.js", True, True),
        ("KEY=<|cursor|>", ".env", False, False),
        ("KEY=<|cursor|>", "secrets.yaml", True, False),
    ],
)
def test_should_trigger(marked: str, name: str, automatic: bool, expected: bool) -> None:
    doc, offset = doc_at(marked, name)
    assert should_trigger(doc, offset, automatic) is expected


@pytest.mark.parametrize(
    ("marked", "name", "expected"),
    [
        ("def f():\n    <|cursor|>", "a.py", "multi"),  # empty body
        ("def f():<|cursor|>", "a.py", "multi"),  # end of a block opener
        ("def f():\n    x = 1\n    <|cursor|>\n    return x\n", "a.py", "multi"),  # new statement
        ("x = 1\n<|cursor|>", "a.py", "multi"),  # top level
        ("x = foo(<|cursor|>)", "a.py", "single"),
        ("x = 1 + <|cursor|>", "a.py", "single"),
        ("x = <|cursor|>foo", "a.py", "single"),
        ("x = foo(\n    a,\n    <|cursor|>\n)", "a.py", "single"),  # blank line in arguments
        ("values = [\n    1,\n    <|cursor|>\n]", "a.py", "single"),
        ("function f() {<|cursor|>}", "a.js", "multi"),  # in an empty block
        ("function f() {\n  <|cursor|>\n}", "a.js", "multi"),
        ("const x = {<|cursor|>};", "a.js", "multi"),
        ("func main() {\n\t<|cursor|>\n}", "a.go", "multi"),
        ("fn main() {\n    let x = <|cursor|>\n}", "a.rs", "single"),
        ("if x then<|cursor|>", "a.lua", "multi"),
        ("local function f(a)<|cursor|>", "a.lua", "multi"),
        ("print(x)<|cursor|>", "a.lua", "single"),
        ("hello <|cursor|>", "a.txt", "single"),
        ("hello\n<|cursor|>", "a.txt", "multi"),
    ],
)
def test_completion_mode(marked: str, name: str, expected: str) -> None:
    doc, offset = doc_at(marked, name)
    assert completion_mode(doc, offset) == expected


def test_stop_strings() -> None:
    assert stop_strings(spec_for("python"), "single") == ["\n"]
    multi = stop_strings(spec_for("python"), "multi")
    assert "\n\n\n" in multi and "```" in multi and "\ndef " in multi
    assert stop_strings(None, "multi") == ["\n\n\n", "```"]
