"""Documents: LSP changes applied to the text, and an incremental tree equal to a fresh parse."""

from __future__ import annotations

import random

import pytest
from lsprotocol import types

from ghostwright.errors import RequestError
from ghostwright.server.context.document import Document, uri_to_path
from ghostwright.server.context.languages import new_parser, spec_for

PIECES = ["def ", "x", " = ", "(", ")", ":", "\n", "    ", "😀", "é", "中", "'", '"', "#", "{", "}",
          "return ", "1", ",", " ", "if ", "class A:\n    pass\n", "\n\n", "𝔘"]
SEEDS = {"python": "def f(a, b):\n    return a + b  # 😀\n", "javascript": "function f(a) {\n}\n"}


def lsp_position(text: str, offset: int) -> tuple[int, int]:
    """Reference conversion, independent of the codec under test."""
    start = text.rfind("\n", 0, offset) + 1
    return text[:offset].count("\n"), len(text[start:offset].encode("utf-16-le")) // 2


def node_facts(doc: Document) -> list[tuple[str, int, int, tuple[int, int], tuple[int, int]]]:
    facts, stack = [], [doc.tree.root_node]
    while stack:
        node = stack.pop()
        facts.append((node.type, node.start_byte, node.end_byte, tuple(node.start_point),
                      tuple(node.end_point)))
        stack.extend(node.children)
    return facts


def fresh(doc: Document) -> Document:
    return Document(doc.uri, doc.language_id, doc.text, doc.version)


@pytest.mark.parametrize("language", sorted(SEEDS))
def test_random_incremental_edits_match_a_fresh_parse(language: str) -> None:
    rng = random.Random(1234)
    expected = SEEDS[language]
    doc = Document(f"file:///w/a.{'py' if language == 'python' else 'js'}", language, expected)
    for step in range(300):
        start = rng.randint(0, len(expected))
        end = min(len(expected), start + rng.choice([0, 0, 1, 2, 5]))
        new_text = "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 3)))
        doc.apply_change((lsp_position(expected, start), lsp_position(expected, end)), new_text)
        expected = expected[:start] + new_text + expected[end:]
        assert doc.text == expected, f"step {step}"
        if step % 7 in (0, 1):  # reparse after one edit, and after several
            assert str(doc.tree.root_node) == str(fresh(doc).tree.root_node), f"step {step}"
    assert node_facts(doc) == node_facts(fresh(doc))


def test_several_changes_in_one_notification_parse_once() -> None:
    doc = Document("file:///w/a.py", "python", "x = 1\ny = 2\n")
    doc.apply_changes([(((0, 4), (0, 5)), "'😀'"), (((1, 0), (1, 0)), "z = 3\n")], version=7)
    assert doc.text == "x = '😀'\nz = 3\ny = 2\n"
    assert doc.version == 7
    assert node_facts(doc) == node_facts(fresh(doc))


def test_full_replacement_and_lsprotocol_ranges() -> None:
    doc = Document("file:///w/a.py", "python", "old")
    doc.apply_change(None, "a = 1\n")
    rng = types.Range(start=types.Position(line=0, character=4),
                      end=types.Position(line=0, character=5))
    doc.apply_change(rng, "2")
    assert doc.text == "a = 2\n"
    assert str(doc.tree.root_node) == str(fresh(doc).tree.root_node)


def test_bad_ranges_raise() -> None:
    doc = Document("file:///w/a.py", "python", "a\nb\n")
    with pytest.raises(RequestError, match="past the end"):
        doc.apply_change(((9, 0), (9, 1)), "x")
    with pytest.raises(RequestError, match="ends before it starts"):
        doc.apply_change(((1, 0), (0, 0)), "x")


def test_large_documents_are_not_parsed() -> None:
    doc = Document("file:///w/big.py", "python", "x = 1\n", max_parse_bytes=100)
    assert doc.tree is not None
    doc.apply_change(((1, 0), (1, 0)), "y = 2\n" * 50)
    assert doc.tree is None
    doc.apply_change(((1, 0), (51, 0)), "")
    assert doc.tree is not None and str(doc.tree.root_node) == str(fresh(doc).tree.root_node)


def test_five_megabyte_document_opens_without_a_tree() -> None:
    doc = Document("file:///w/gen.py", "python", "x = 1\n" * 900_000)
    assert doc.tree is None
    doc.apply_change(((3, 0), (3, 0)), "# hi\n")
    assert doc.text.startswith("x = 1\n" * 3 + "# hi\n")


def test_unknown_language_is_plain_text() -> None:
    doc = Document("untitled:Untitled-1", "plaintext", "hello")
    assert doc.spec is None and doc.tree is None and doc.path is None
    doc.apply_change(((0, 5), (0, 5)), " world")
    assert doc.text == "hello world"


def test_language_falls_back_to_the_extension() -> None:
    assert Document("file:///w/a.rs", "", "fn main() {}").language == "rust"


def test_uri_to_path() -> None:
    assert uri_to_path("file:///tmp/a%20b/c.py") == "/tmp/a b/c.py"
    assert uri_to_path("untitled:Untitled-1") is None


def test_parsers_exist_for_every_language() -> None:
    for name in ("python", "javascript", "typescript", "tsx", "go", "rust", "java", "c", "cpp",
                 "lua"):
        assert new_parser(spec_for(name)) is not None, name
