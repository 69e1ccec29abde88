"""Ask's retrieval: tree-sitter chunks, BM25 ranking, and citations that point at real lines."""

from __future__ import annotations

import textwrap

import pytest

from ghostwright.server.ask.chunks import SourceChunk, chunk_lines, chunk_tree
from ghostwright.server.ask.citations import find_citations, sources_section, validate
from ghostwright.server.ask.retrieval import BM25, terms
from ghostwright.server.context.languages import new_parser, spec_for

PY = textwrap.dedent('''\
    """Token cache."""
    import os

    LIMIT = 10


    # Keeps recently used tokens.
    class TokenCache:
        """An LRU of tokens."""

        def get(self, key):
            return self.items.get(key)

        def put(self, key, value):
            self.items[key] = value


    @staticmethod
    def parse_config(path):
        """Read the settings file."""
        with open(path) as f:
            return f.read()
    ''')


def chunks_of(source: str, path: str = "pkg/cache.py", max_lines: int = 40) -> list[SourceChunk]:
    spec = spec_for(None, path)
    parser = new_parser(spec)
    assert spec is not None and parser is not None
    return chunk_tree(parser.parse(source.encode()), source, spec, path, max_lines)


def test_chunks_follow_definitions() -> None:
    chunks = chunks_of(PY)
    assert [(c.name, c.start_line, c.end_line) for c in chunks] == [
        ("", 0, 3),  # module docstring, import, constant
        ("TokenCache", 6, 14),  # leading comment included
        ("parse_config", 17, 21),  # decorator included
    ]
    assert chunks[1].text.startswith("# Keeps recently used tokens.\nclass TokenCache:")
    lines = PY.split("\n")
    for chunk in chunks:  # a chunk's text is exactly its lines
        assert chunk.text == "\n".join(lines[chunk.start_line : chunk.end_line + 1])
    assert chunks[2].citation == "pkg/cache.py:18"


def test_long_class_is_split_by_method() -> None:
    chunks = chunks_of(PY, max_lines=6)
    names = [(c.name, c.start_line) for c in chunks]
    assert ("TokenCache", 6) in names  # header and docstring
    assert ("TokenCache.get", 10) in names and ("TokenCache.put", 13) in names


def test_line_windows_for_unknown_languages() -> None:
    lines = ["a", "", "b", "c", "", "", "d"]
    chunks = chunk_lines(lines, "notes.txt", max_lines=3)
    assert [(c.start_line, c.end_line, c.text) for c in chunks] == [(0, 2, "a\n\nb"), (3, 3, "c"), (6, 6, "d")]


def test_terms_split_identifiers() -> None:
    assert terms("How does TokenCache.get work?") == ["token", "cache", "tokencache", "get", "work"]
    assert terms("parse_config reads settings") == ["parse", "config", "parse_config", "read", "setting"]
    assert terms("the status class") == ["status", "class"]


def test_bm25_ranks_the_relevant_chunk_first() -> None:
    chunks = [
        *chunks_of(PY),
        SourceChunk("pkg/http.py", 0, 2, "def fetch(url):\n    return urlopen(url).read()", "fetch"),
        SourceChunk("pkg/log.py", 0, 1, "def log(message):\n    print(message)", "log"),
    ]
    index = BM25(chunks)
    assert index.search("where is the settings file parsed?")[0].chunk.name == "parse_config"
    assert index.search("how do I download a url")[0].chunk.path == "pkg/http.py"
    assert index.search("token cache lookup")[0].chunk.name == "TokenCache"
    assert index.search("the a of") == []  # nothing but filler words
    assert index.search("zebra") == []
    top = index.search("cache settings log", k=2)
    assert len(top) == 2 and top[0].score >= top[1].score


def test_bm25_empty_index() -> None:
    assert BM25([]).search("anything") == []


SOURCES = [
    SourceChunk("pkg/cache.py", 6, 15, "class TokenCache: ...", "TokenCache"),
    SourceChunk("pkg/cache.py", 18, 22, "def parse_config(path): ...", "parse_config"),
    SourceChunk("src/http.py", 0, 2, "def fetch(url): ...", "fetch"),
]
FILES = {"pkg/cache.py": 23, "src/http.py": 3, "README.md": 10}


def line_count(path: str) -> int | None:
    return FILES.get(path)


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("See pkg/cache.py:7 for it.", "See pkg/cache.py:7 for it."),  # real: kept
        ("It is in [2].", "It is in `pkg/cache.py:19`."),  # numbered source
        ("Ranges work: pkg/cache.py:7-9.", "Ranges work: pkg/cache.py:7-9."),
        ("Clamped: src/http.py:2-80.", "Clamped: src/http.py:2-3."),
        ("Short name: http.py:1.", "Short name: src/http.py:1."),  # unique suffix of a source path
        ("Past the end: pkg/cache.py:400.", "Past the end: pkg/cache.py:19."),  # nearest chunk
        ("Invented: (see `pkg/nothing.py:3`) ok.", "Invented: ok."),
        ("Unknown [9] number.", "Unknown number."),
        ("Not code: items[0] and http://host.com:8080/x", "Not code: items[0] and http://host.com:8080/x"),
        ("README.md:4 exists too.", "README.md:4 exists too."),  # any workspace file counts
    ],
)
def test_validate_citations(answer: str, expected: str) -> None:
    report = validate(answer, SOURCES, line_count)
    assert report.text == expected
    for path, line in find_citations(report.text):
        assert 1 <= line <= FILES[path]


def test_validate_reports_what_it_did() -> None:
    report = validate("a pkg/cache.py:7, b cache.py:19, c ghost.py:1", SOURCES, line_count)
    assert report.kept == ["pkg/cache.py:7"]
    assert report.fixed == [("cache.py:19", "pkg/cache.py:19")]  # "cache.py" is a unique suffix
    assert report.dropped == ["ghost.py:1"]


def test_code_fences_are_left_alone_except_citations() -> None:
    answer = "Use it [1]:\n```python\nx = cache[1]\n    y  =  2\n```\nbogus.py:3 gone."
    report = validate(answer, SOURCES, line_count)
    assert report.text == "Use it `pkg/cache.py:7`:\n```python\nx = cache[1]\n    y  =  2\n```\n gone."


def test_sources_section_is_real_by_construction() -> None:
    section = sources_section(SOURCES)
    assert section.splitlines()[2:] == [
        "1. `pkg/cache.py:7` TokenCache", "2. `pkg/cache.py:19` parse_config", "3. `src/http.py:1` fetch"]
    assert all(1 <= line <= FILES[path] for path, line in find_citations(section))
    assert sources_section([]) == ""
