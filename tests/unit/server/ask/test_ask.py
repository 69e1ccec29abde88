"""ghostwright.ask without the model: arguments, prompt, source budget, repetition, attribution, chunk store."""

from __future__ import annotations

from pathlib import Path

import pytest

from ghostwright.errors import RequestError
from ghostwright.server.ask.chunk_store import ChunkStore, Snapshot
from ghostwright.server.ask.chunks import SourceChunk
from ghostwright.server.ask.citations import attribute, find_citations
from ghostwright.server.ask.service import ask_messages, fit_sources, parse_arguments
from ghostwright.server.repetition import cut_repetition

SOURCES = [
    SourceChunk("pkg/cache.py", 5, 9, "class TokenCache:\n    def evict(self):\n        self.items.pop()",
                "TokenCache"),
    SourceChunk("pkg/config.py", 2, 4, "def parse_config(path):\n    return json.load(open(path))", "parse_config"),
]


def test_arguments() -> None:
    assert parse_arguments(("how?",)) == {"question": "how?", "max_sources": 4, "token": None, "uri": None}
    parsed = parse_arguments(({"question": " why? ", "workDoneToken": 7, "maxSources": 2, "uri": "file:///a.py"},))
    assert parsed == {"question": "why?", "max_sources": 2, "token": 7, "uri": "file:///a.py"}
    for bad in [(), (42,), ({"question": ""},), ({"question": "q", "maxSources": 11},),
                ({"question": "q", "maxSources": True},), ({"question": "q", "workDoneToken": [1]},),
                ({"question": "x" * 3000},), ({"question": "q", "uri": 3},)]:
        with pytest.raises(RequestError):
            parse_arguments(bad)


def test_prompt_numbers_sources_with_real_locations() -> None:
    messages = ask_messages("How is the cache emptied?", SOURCES, {"pkg/cache.py": "python"}, "Rule one.")
    assert messages[0]["role"] == "system" and messages[0]["content"].endswith("Rule one.")
    user = messages[1]["content"]
    assert "[1] pkg/cache.py:6 (TokenCache)\n```python\nclass TokenCache:" in user
    assert "[2] pkg/config.py:3 (parse_config)\n```\ndef parse_config" in user
    assert user.endswith("Question: How is the cache emptied?")


def test_secrets_in_sources_are_redacted() -> None:
    leaky = SourceChunk("a.py", 0, 0, 'API_KEY = "sk-live-abcdefghijklmnopqrstuvwx"', "")
    assert "abcdefghijklmnop" not in ask_messages("q", [leaky], {}, "")[1]["content"]


def test_fit_sources_keeps_the_best_within_budget() -> None:
    long = SourceChunk("big.py", 10, 109, "\n".join(f"line {i}" for i in range(100)), "big")
    chosen = fit_sources([long, *SOURCES], lambda text: len(text.split()), budget=95)
    assert chosen[0].end_line == 10 + 29 and chosen[0].text.count("\n") == 29  # cut to 30 lines
    assert [c.path for c in chosen] == ["big.py", "pkg/cache.py"]  # the third does not fit
    assert fit_sources([long], lambda text: 10_000, budget=10)[0].path == "big.py"  # the best always goes


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The answer is:\n\nThe answer is:\n\nThe", "The answer is:"),
        ("It pops items. Then it pops items from the list again and again. It pops items. More", "It pops items. "
         "Then it pops items from the list again and again."),
        ("a b c d e f g h i. Then a b c d e f g h i j", "a b c d e f g h i."),  # eight words again
        ("It evicts the oldest entry when the cache is full.", None),
    ],
)
def test_cut_repetition(text: str, expected: str | None) -> None:
    assert cut_repetition(text) == expected


def test_attribute_cites_unreferenced_paragraphs() -> None:
    text = "The cache pops items in evict.\n\nparse_config loads json.\n\nAlready cited pkg/config.py:3.\n\nNothing."
    cited = attribute(text, SOURCES)
    assert cited == ("The cache pops items in evict. (`pkg/cache.py:6`)\n\nparse_config loads json. (`pkg/config.py:3`)"
                     "\n\nAlready cited pkg/config.py:3.\n\nNothing.")
    assert attribute("```\ncache code\n```", SOURCES) == "```\ncache code\n```"  # code is not prose
    assert attribute("text", []) == "text"
    assert find_citations(cited) == [("pkg/cache.py", 6), ("pkg/config.py", 3), ("pkg/config.py", 3)]


def test_chunk_store_prefers_open_text_and_rechunks_on_change(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("def on_disk():\n    pass\n")
    (tmp_path / ".env").write_text("TOKEN=abc\n")
    store = ChunkStore(tmp_path)
    chunks = store.gather(["a.py", ".env"], Snapshot({}))
    assert [c.name for c in chunks] == ["on_disk"]  # secret files never become sources
    opened = store.gather(["a.py"], Snapshot({"a.py": (3, "\n\ndef in_editor():\n    pass\n")}))
    assert [(c.name, c.start_line) for c in opened] == [("in_editor", 2)]
    assert store.line_count("a.py") == 5  # the text that was chunked, unsaved edits included
    assert store.line_count("missing.py") is None and store.line_count("../outside.py") is None
    assert store.line_count(".env") is None
