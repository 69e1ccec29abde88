"""What a hover is about: definitions, declarations, parameters and references, found with tree-sitter."""

from __future__ import annotations

import pytest

from ghostwright.server.context.definitions import Definition
from ghostwright.server.context.document import Document
from ghostwright.server.features.hover import render
from ghostwright.server.hover.service import Explanation, hover_messages, tidy
from ghostwright.server.hover.target import find_target

SRC = '''import os

LIMIT: int = 10


class TokenCache:
    """An LRU of tokens."""

    def __init__(self, size: int = LIMIT) -> None:
        self.items = {}
        self.size = size

    @property
    def full(self) -> bool:
        return len(self.items) >= self.size


def is_prime(n: int) -> bool:
    """True for primes."""
    total = 0
    for d in range(2, n):
        if n % d == 0:
            return False
    cache = TokenCache(LIMIT)
    return cache.full and total == 0 and helper(n)
'''


def at(needle: str, nth: int = 0) -> int:
    """Offset inside the nth occurrence of ``needle``."""
    index = -1
    for _ in range(nth + 1):
        index = SRC.index(needle, index + 1)
    return index + 1


class Index:
    def lookup(self, names):
        return [Definition("helper", "function", "util/help.py", 4, "def helper(x: int) -> bool:",
                           '"""Help."""', "python")] if "helper" in names else []


@pytest.mark.parametrize(
    ("needle", "nth", "kind", "signature", "line"),
    [
        ("TokenCache", 0, "class", "class TokenCache:", 5),  # the definition itself
        ("TokenCache", 1, "class", "class TokenCache:", 5),  # a use
        ("LIMIT", 1, "variable", "LIMIT: int = 10", 2),  # a default value is a use, not a parameter
        ("LIMIT", 2, "variable", "LIMIT: int = 10", 2),
        ("is_prime", 0, "function", "def is_prime(n: int) -> bool:", 17),
        ("n %", 0, "parameter", "n: int", 17),
        ("size = size", 0, "attribute", "self.size = size", 10),
        ("size\n", 0, "parameter", "size: int = LIMIT", 8),  # the value assigned is the parameter
        ("full", 1, "method", "@property\ndef full(self) -> bool:", 12),  # decorator kept
        ("items)", 0, "attribute", "self.items = {}", 9),
        ("total ==", 0, "variable", "total = 0", 19),
        ("cache.full", 0, "variable", "cache = TokenCache(LIMIT)", 23),
    ],
)
def test_targets(needle: str, nth: int, kind: str, signature: str, line: int) -> None:
    target = find_target(Document("file:///w/a.py", "python", SRC), at(needle, nth), Index())
    assert target is not None
    assert (target.kind, target.signature, target.line) == (kind, signature, line)
    assert target.path is None  # defined in this document


def test_unknown_and_blank() -> None:
    doc = Document("file:///w/a.py", "python", SRC)
    assert find_target(doc, at("os"), Index()) is None  # an import: no definition known
    assert find_target(doc, at("range"), Index()) is None  # a builtin
    assert find_target(doc, SRC.index("\n\n") + 1, Index()) is None  # an empty line
    assert find_target(Document("file:///w/a.txt", "plaintext", "hello"), 1) is None


def test_reference_to_another_file_uses_the_index() -> None:
    target = find_target(Document("file:///w/a.py", "python", SRC), at("helper"), Index())
    assert target is not None
    assert (target.kind, target.path, target.line, target.doc) == ("function", "util/help.py", 4, '"""Help."""')
    assert target.source == 'def helper(x: int) -> bool:\n"""Help."""'


def test_key_is_the_definition_content() -> None:
    doc = Document("file:///w/a.py", "python", SRC)
    key = find_target(doc, at("is_prime")).key
    moved = Document("file:///w/b.py", "python", "\n\n# moved down\n" + SRC)
    assert find_target(moved, moved.text.index("is_prime") + 1).key == key  # position does not matter
    edited = Document("file:///w/a.py", "python", SRC.replace("total = 0", "total = 1"))
    assert find_target(edited, edited.text.index("is_prime") + 1).key != key


def test_other_languages() -> None:
    ts = "export function greet(name: string): string {\n  return `hi ${name}`;\n}\nconst x = greet('a');\n"
    target = find_target(Document("file:///w/a.ts", "typescript", ts), ts.index("greet('a')") + 1)
    assert target is not None and target.kind == "function"
    assert target.signature == "export function greet(name: string): string {"
    go = "package m\n\n// Add adds.\nfunc Add(a, b int) int {\n\treturn a + b\n}\n"
    target = find_target(Document("file:///w/a.go", "go", go), go.index("Add(") + 1)
    assert target is not None and target.doc == "// Add adds." and target.kind == "function"


def test_prompt_and_render() -> None:
    target = find_target(Document("file:///w/a.py", "python", SRC), at("is_prime"))
    messages, prefill = hover_messages(target, "Be brief.")
    assert messages[0]["content"].endswith("Be brief.")
    assert "```python\ndef is_prime(n: int) -> bool:" in messages[1]["content"]
    assert prefill == "The function `is_prime`"
    shown = render(target, Explanation("It checks primes.", "partial", "cut short: the 5 s budget ran out"))
    assert shown == ('```python\ndef is_prime(n: int) -> bool:\n```\n\n*function*\n\nTrue for primes.\n\n'
                     'It checks primes.…\n\n_(cut short: the 5 s budget ran out)_')


def test_tidy() -> None:
    assert tidy("One. Two! Three? Four.") == "One. Two! Three?"
    assert tidy("It adds.\n```python\nx\n```") == "It adds."


def test_whole_sentences() -> None:
    from ghostwright.server.hover.service import whole_sentences

    assert whole_sentences("It adds. Then it uses the") == "It adds."
    assert whole_sentences("It adds two numbers") == "It adds two numbers"  # nothing whole to fall back on
    assert whole_sentences("It adds. It returns.") == "It adds. It returns."


def test_index_hit_reads_the_whole_definition_from_its_file(tmp_path) -> None:
    helper = "import os\n\n\n@cache\ndef helper(x: int) -> bool:\n    \"\"\"Help.\"\"\"\n    return x > 0\n"
    (tmp_path / "util").mkdir()
    (tmp_path / "util" / "help.py").write_text(helper)

    class RootedIndex(Index):
        root = tmp_path

    via_index = find_target(Document("file:///w/a.py", "python", SRC), at("helper"), RootedIndex())
    assert via_index is not None and via_index.path == "util/help.py" and via_index.line == 4
    assert via_index.signature == "@cache\ndef helper(x: int) -> bool:" and "return x > 0" in via_index.source
    at_home = find_target(Document((tmp_path / "util" / "help.py").as_uri(), "python", helper),
                          helper.index("helper("))
    assert via_index.key == at_home.key  # one cached explanation, wherever it is hovered from
    (tmp_path / "util" / "help.py").unlink()  # gone from disk: the index entry alone still answers
    fallback = find_target(Document("file:///w/a.py", "python", SRC), at("helper"), RootedIndex())
    assert fallback is not None and fallback.source == 'def helper(x: int) -> bool:\n"""Help."""'
