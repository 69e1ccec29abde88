"""Prompt assembly: cache stability, budgets, cross-file context, recent edits, secrets.

What the server builds is rendered here the way the engine's tiers render it (prefix-only
with comments for SmolLM2, plain FIM, Qwen2.5-Coder's repository-level FIM), so the tests see
the token sequence a model would.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ghostwright.errors import RequestError
from ghostwright.inference.prompt_format import CODE, FIM, REPO_FIM, PromptFormat, render_infill
from ghostwright.server.completion.prompt import CompletionPrompt, build_completion_prompt
from ghostwright.server.completion.recent_edits import RecentEdits
from ghostwright.server.context.document import Document
from ghostwright.server.context.languages import spec_for
from ghostwright.server.context.workspace_index import WorkspaceIndex
from support.code_samples import INOTIFY_EMITTER, KQUEUE_EMITTER_SO_FAR

GOLDEN = Path(__file__).parent / "golden"
CURSOR = "<|cursor|>"
SOURCES = sorted(p for p in GOLDEN.iterdir()
                 if p.is_file() and not p.name.endswith(".expected.txt") and p.suffix != ".toml")


def count_tokens(text: str) -> int:
    return len(text.encode()) // 4 + 1


def doc_at(marked: str, name: str, root: str = "/w") -> tuple[Document, int]:
    spec = spec_for(None, name)
    uri = Path(root, name).as_uri()
    doc = Document(uri, spec.name if spec else "plaintext", marked.replace(CURSOR, ""), 1)
    return doc, marked.index(CURSOR)


def build(doc: Document, offset: int, budget: int = 200, **kwargs: object) -> CompletionPrompt:
    # A generous time budget: wall-clock limits are tested on their own below, and a loaded
    # CI machine must not change which pieces fit.
    options: dict[str, object] = {"index": None, "recent_edits": None, "time_budget_s": 10.0}
    options.update(kwargs)
    return build_completion_prompt(doc, offset, count_tokens=count_tokens, budget_tokens=budget,
                                   **options)  # type: ignore[arg-type]


CODE_FORMAT = PromptFormat(CODE)
FIM_FORMAT = PromptFormat(FIM, (7, 8, 9))
REPO_FORMAT = PromptFormat(REPO_FIM, (7, 8, 9), (5, 6))


def segments(built: CompletionPrompt, fmt: PromptFormat | None = None) -> tuple[str | int, ...]:
    """As a tier renders it: FIM when the prompt was built for a model that reads the suffix."""
    if fmt is None:
        fmt = FIM_FORMAT if any(p.kind == "suffix" for p in built.pieces) else CODE_FORMAT
    return render_infill(fmt, built.prompt).segments


def text_of(built: CompletionPrompt, fmt: PromptFormat | None = None) -> str:
    return "".join(s for s in segments(built, fmt) if isinstance(s, str))


def before_prefix(built: CompletionPrompt, fmt: PromptFormat | None = None) -> tuple[str | int, ...]:
    """Everything the model reads before the prefix window ends (what the KV cache keeps)."""
    rendered = segments(built, fmt)
    at = next(i for i, s in enumerate(rendered) if isinstance(s, str) and s.endswith(built.prefix))
    return (*rendered[:at], rendered[at][: len(rendered[at]) - len(built.prefix)])


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
@pytest.mark.parametrize("budget", [60, 150, 400])
def test_typing_on_the_cursor_line_keeps_the_text_before_the_prefix(
    source: Path, budget: int
) -> None:
    marked = source.read_text()
    fim = (1, 2, 3) if budget == 150 else None
    base = build(*doc_at(marked, source.name), budget=budget, fim=fim is not None)
    for typed in ("a", "ab", "ab(", "ab(c, 1", "ab(c, 1) + dd"):
        doc, offset = doc_at(marked.replace(CURSOR, typed + CURSOR), source.name)
        built = build(doc, offset, budget=budget, fim=fim is not None)
        assert before_prefix(built) == before_prefix(base), typed
        assert built.prefix == base.prefix + typed


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
@pytest.mark.parametrize("budget", [20, 50, 100, 300, 1000])
def test_prompt_fits_the_budget(source: Path, budget: int) -> None:
    for fim in (None, (1, 2, 3)):
        built = build(*doc_at(source.read_text(), source.name), budget=budget, fim=fim is not None)
        assert sum(p.tokens for p in built.pieces) <= budget
        assert count_tokens(text_of(built)) <= budget + len(built.pieces)
        assert built.prefix and built.prompt.prefix.endswith(built.prefix) and built.prefix in text_of(built)


def test_fim_segments() -> None:
    doc, offset = doc_at("def f():\n    return <|cursor|>\n\nprint(f())\n", "a.py")
    built = build(doc, offset, fim=True)
    rendered = segments(built)
    assert [rendered[0], rendered[2], rendered[4]] == [7, 8, 9]
    assert rendered[1].endswith("    return ") and rendered[1].startswith("# Path: a.py\n")
    assert rendered[3] == "\n\nprint(f())\n" == built.suffix
    assert [p.kind for p in built.pieces] == ["header", "prefix", "suffix"]


def test_without_fim_the_suffix_is_kept_but_not_sent() -> None:
    doc, offset = doc_at("x = (<|cursor|>)\ny = 2\n", "a.py")
    built = build(doc, offset)
    assert segments(built) == ("# Path: a.py\nx = (",)
    assert built.suffix == ")\ny = 2\n" and built.mode == "single" and built.stop == ["\n"]


def test_a_model_given_only_the_prefix_at_a_line_edge_spends_no_budget_on_the_suffix() -> None:
    body = "".join(f"    total += {i}\n" for i in range(60))
    marked = f"def f():\n    total = 0\n{body}    <|cursor|>\n{body}    return total\n"
    doc, offset = doc_at(marked, "a.py")
    both = build(doc, offset, fim=True)
    prefix_only = build(doc, offset, fim=True, fim_at_line_start=False)
    assert "suffix" in [p.kind for p in both.pieces] and "suffix" not in [p.kind for p in prefix_only.pieces]
    assert len(prefix_only.prefix) > len(both.prefix)  # the suffix's share went to the prefix
    assert prefix_only.suffix == both.suffix  # still there, for the post-processor
    line_end = build(*doc_at("def f():\n    return <|cursor|>\n", "a.py"), fim=True, fim_at_line_start=False)
    assert "suffix" not in [p.kind for p in line_end.pieces]
    mid_line = build(*doc_at("def f():\n    return g(<|cursor|>)\n", "a.py"), fim=True, fim_at_line_start=False)
    assert "suffix" in [p.kind for p in mid_line.pieces]


def workspace(tmp_path: Path) -> WorkspaceIndex:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg/util.py").write_text(
        'def helper(x: int) -> str:\n    """Format x; key = \'sk-abcdefghijklmnopqrstuvwx\'."""\n'
    )
    (tmp_path / "pkg/models.py").write_text(
        "class User:\n    def name(self) -> str:\n        pass\n"
        "    def email(self) -> str:\n        pass\n"
    )
    (tmp_path / "app.py").write_text("def helper():\n    pass\n")
    index = WorkspaceIndex(tmp_path)
    index.scan()
    return index


def test_definitions_from_other_files_are_commented(tmp_path: Path) -> None:
    index = workspace(tmp_path)
    marked = "u = User()\ns = helper(1)\n<|cursor|>"
    doc, offset = doc_at(marked, "app.py", str(tmp_path))
    text = text_of(build(doc, offset, budget=400, index=index))
    assert text.startswith("# Path: app.py\n# Compare this snippet from pkg/util.py:\n"
                           "# def helper(x: int) -> str:\n")
    assert "# Compare this snippet from pkg/models.py:\n# class User:\n" in text
    assert "#     def name(self) -> str:\n#     def email(self) -> str:\n" in text
    assert "app.py:" not in text  # the document's own definition of helper is not context
    assert "sk-abcdefghijklmnopqrstuvwx" not in text and "<redacted>" in text


def test_identifiers_on_the_cursor_line_are_not_looked_up(tmp_path: Path) -> None:
    index = workspace(tmp_path)
    doc, offset = doc_at("x = 1\ns = helper(<|cursor|>", "app.py", str(tmp_path))
    assert "pkg/util.py" not in text_of(build(doc, offset, budget=400, index=index))


def test_recent_edits_from_other_documents_and_far_away_lines() -> None:
    recent = RecentEdits(context_lines=0)
    other = Document("file:///w/other.py", "python", "def changed(a, b):\n    pass\n")
    recent.record(other, 0)
    lines = [f"v{i} = {i}" for i in range(300)]
    doc = Document("file:///w/a.py", "python", "\n".join(lines) + "\n")
    recent.record(doc, 2)  # far above the window: shown
    recent.record(doc, 299)  # inside the window: not shown
    offset = doc.offset_at(299, 0)
    text = text_of(build(doc, offset, budget=300, recent_edits=recent))
    assert "# Compare this snippet from other.py:\n# def changed(a, b):\n" in text
    assert "# Compare this snippet from a.py:\n# v2 = 2\n" in text
    assert "# v299" not in text


def test_secrets_in_the_document_are_redacted() -> None:
    doc, offset = doc_at('token = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"\nx = <|cursor|>',
                         "a.py")
    built = build(doc, offset)
    assert "ghp_" not in text_of(built) and "ghp_" not in built.prefix


def test_secret_files_are_refused() -> None:
    doc, offset = doc_at("KEY=<|cursor|>", ".env")
    with pytest.raises(RequestError, match="may hold secrets"):
        build(doc, offset)


def test_an_exhausted_time_budget_still_gives_the_cursor_line() -> None:
    doc, offset = doc_at("import os\n\ndef f():\n    x = 1\n    y = <|cursor|>", "a.py")
    built = build(doc, offset, time_budget_s=0.0)
    assert built.prefix.endswith("    y = ")


def test_unparsed_large_documents_still_build() -> None:
    body = "x = 1\n" * 50
    doc = Document("file:///w/big.py", "python", body + "y = ", 1, max_parse_bytes=10)
    assert doc.tree is None
    began = time.monotonic()
    built = build(doc, len(doc.text), budget=100)
    assert built.prefix.endswith("x = 1\ny = ") and time.monotonic() - began < 1.0


def test_a_huge_cursor_line_is_cut_from_the_left() -> None:
    doc, offset = doc_at("x = [" + "1, " * 2000 + "<|cursor|>", "a.py")
    built = build(doc, offset, budget=100)
    assert built.prefix.endswith("1, 1, ") and count_tokens(text_of(built)) <= 100 + 2


def test_typing_a_known_name_keeps_the_cross_file_context(tmp_path: Path) -> None:
    index = workspace(tmp_path)
    recent = RecentEdits()
    recent.record(Document((tmp_path / "pkg/util.py").as_uri(), "python", "x = 1\n"), 0)
    marked = "import pkg\n\ndef run():\n    u = User()\n    <|cursor|>\n"
    base = build(*doc_at(marked, "app.py", str(tmp_path)), budget=400, index=index,
                 recent_edits=recent)
    assert "pkg/models.py" in before_prefix(base)[-1] and "x = 1" in before_prefix(base)[-1]
    for typed in ("he", "helper", "helper(", "helper(u.name()"):
        doc, offset = doc_at(marked.replace(CURSOR, typed + CURSOR), "app.py", str(tmp_path))
        built = build(doc, offset, budget=400, index=index, recent_edits=recent)
        assert before_prefix(built) == before_prefix(base), typed


def test_repository_level_fim_gives_other_files_as_files(tmp_path: Path) -> None:
    """Qwen2.5-Coder's format: <|repo_name|>name, <|file_sep|>path + code per snippet, then the file."""
    index = workspace(tmp_path)
    doc, offset = doc_at("u = User()\ns = helper(1)\n<|cursor|>\nprint(s)\n", "app.py", str(tmp_path))
    built = build(doc, offset, budget=400, index=index, fim=True, repo="shop")
    rendered = segments(built, REPO_FORMAT)
    assert rendered[:2] == (5, "shop\n")
    files = [rendered[i + 1] for i, s in enumerate(rendered) if s == 6]
    assert files[0].startswith("pkg/util.py\ndef helper(x: int) -> str:\n")
    assert any(f.startswith("pkg/models.py\nclass User:\n    def name(self) -> str:\n") for f in files)
    assert files[-1] == "app.py\n"
    assert rendered[-5:] == (7, built.prompt.prefix, 8, "\nprint(s)\n", 9)
    assert "# Compare" not in text_of(built, REPO_FORMAT)  # files, not comments
    assert "sk-abcdefghijklmnopqrstuvwx" not in text_of(built, REPO_FORMAT)


def test_repository_level_fim_names_each_file_once() -> None:
    """A definition and two recent edits from pkg/util.py are one <|file_sep|> file, not three."""
    from ghostwright.inference.api import InfillPrompt, Snippet

    snippets = (Snippet("pkg/util.py", "def helper(x):\n"), Snippet("db.py", "conn = None\n"),
                Snippet("pkg/util.py", "LIMIT = 3\n"), Snippet("pkg/util.py", "def other():\n    pass\n"))
    rendered = render_infill(REPO_FORMAT, InfillPrompt("x = ", "\n", "app.py", "python", "#", snippets, "shop"))
    files = [rendered.segments[i + 1] for i, s in enumerate(rendered.segments) if s == 6]
    assert files == ["pkg/util.py\ndef helper(x):\n\nLIMIT = 3\n\ndef other():\n    pass\n", "db.py\nconn = None\n",
                     "app.py\n"]


def test_typing_keeps_everything_before_the_prefix_in_repository_fim(tmp_path: Path) -> None:
    index = workspace(tmp_path)
    marked = "import pkg\n\ndef run():\n    u = User()\n    <|cursor|>\n"
    base = build(*doc_at(marked, "app.py", str(tmp_path)), budget=400, index=index, fim=True, repo="shop")
    for typed in ("he", "helper", "helper(", "helper(u.name()"):
        doc, offset = doc_at(marked.replace(CURSOR, typed + CURSOR), "app.py", str(tmp_path))
        built = build(doc, offset, budget=400, index=index, fim=True, repo="shop")
        assert before_prefix(built, REPO_FORMAT) == before_prefix(base, REPO_FORMAT), typed


SIBLING = INOTIFY_EMITTER + "            token = 'sk-abcdefghijklmnopqrstuvwx'\n"

WRITING = KQUEUE_EMITTER_SO_FAR + "            <|cursor|>\n"


def sibling_workspace(tmp_path: Path) -> WorkspaceIndex:
    (tmp_path / "observers").mkdir()
    (tmp_path / "observers/inotify.py").write_text(SIBLING)
    (tmp_path / "observers/kqueue.py").write_text(WRITING.replace(CURSOR, ""))
    (tmp_path / "events.py").write_text("class DirMovedEvent:\n    pass\n\n\nclass FileMovedEvent:\n    pass\n")
    index = WorkspaceIndex(tmp_path)
    index.scan()
    return index


def test_code_like_the_lines_above_the_cursor_comes_from_other_files(tmp_path: Path) -> None:
    from ghostwright.server.completion.prompt import CONTEXT_SHARE, SIMILAR_SHARE

    index = sibling_workspace(tmp_path)
    budget = 1000
    built = build(*doc_at(WRITING, "observers/kqueue.py", str(tmp_path)), budget=budget, index=index,
                  fim=True, repo="watchdog")
    files = [s for s in built.prompt.files() if s.path == "observers/inotify.py"]
    assert files and "self.queue_event(cls(src_path, dest_path))" in files[0].text
    assert "sk-abcdefghijklmnopqrstuvwx" not in files[0].text  # through the one secret filter
    similar = [p for p in built.pieces if p.kind == "similar"]
    assert similar and sum(p.tokens for p in similar) <= budget * CONTEXT_SHARE * SIMILAR_SHARE
    # the file itself: never the index's copy of it
    assert not any(p.kind == "similar" and p.detail == "observers/kqueue.py" for p in built.pieces)


BELOW = """\

    def on_thread_stop(self):
        self._kqueue.close()
        self._watch_paths.clear()
        self._fd_for_path.clear()
        self._stopped = True

    def describe(self):
        lines = []
        for path, fd in sorted(self._fd_for_path.items()):
            lines.append(f"{path}: {fd}")
        width = max((len(line) for line in lines), default=0)
        return "\\n".join(line.ljust(width) for line in lines)

    def queue_moved(self, event):
        src_path = self._decode_path(event.src_path)
        dest_path = self._decode_path(event.dest_path)
        cls = DirMovedEvent if event.is_directory else FileMovedEvent
        self.queue_event(cls(src_path, dest_path))
        self.queue_event(DirModifiedEvent(os.path.dirname(src_path)))
"""


def test_code_below_the_cursor_like_the_lines_above_comes_from_the_editors_text(tmp_path: Path) -> None:
    """At a line start a model given only the prefix would never see the rest of the file; the
    index's (saved) copy of the file may still hold the line being written, so it is not used."""
    index = sibling_workspace(tmp_path)
    saved = KQUEUE_EMITTER_SO_FAR + "            self.queue_event(SAVED_ONLY)\n" + BELOW
    (tmp_path / "observers/kqueue.py").write_text(saved)
    index.scan()
    marked = KQUEUE_EMITTER_SO_FAR + "            <|cursor|>\n" + BELOW
    built = build(*doc_at(marked, "observers/kqueue.py", str(tmp_path)), budget=1000, index=index, fim=False)
    below = [s for s in built.prompt.snippets if s.path == "observers/kqueue.py"]
    assert len(below) == 1 and "self.queue_event(cls(src_path, dest_path))" in below[0].text
    assert "on_thread_stop" not in below[0].text  # the window most like the lines above, not all below
    assert "below" in [p.kind for p in built.pieces]
    assert "SAVED_ONLY" not in text_of(built, REPO_FORMAT)
    for typed in ("self", "self.queue_event("):  # typing on the cursor line keeps it, and the head
        doc, offset = doc_at(marked.replace(CURSOR, typed + CURSOR), "observers/kqueue.py", str(tmp_path))
        again = build(doc, offset, budget=1000, index=index, fim=False)
        assert before_prefix(again, REPO_FORMAT) == before_prefix(built, REPO_FORMAT), typed


def test_a_model_that_reads_the_suffix_gets_no_window_from_it(tmp_path: Path) -> None:
    index = sibling_workspace(tmp_path)
    marked = KQUEUE_EMITTER_SO_FAR + "            self.<|cursor|>\n" + BELOW
    built = build(*doc_at(marked, "observers/kqueue.py", str(tmp_path)), budget=2000, index=index, fim=True)
    assert built.suffix.endswith(BELOW)  # all of it, as the suffix
    assert "below" not in [p.kind for p in built.pieces]


def test_a_definition_that_a_similar_window_shows_is_not_repeated(tmp_path: Path) -> None:
    index = sibling_workspace(tmp_path)
    marked = "def run(emitter):\n    cls = InotifyEmitter(emitter)\n    event = self._inotify.read_event()\n" \
             "    cls = DirMovedEvent if event.is_directory else FileMovedEvent\n    <|cursor|>\n"
    built = build(*doc_at(marked, "run.py", str(tmp_path)), budget=1000, index=index)
    from_sibling = [s for s in built.prompt.snippets if s.path == "observers/inotify.py"]
    assert len(from_sibling) == 1 and from_sibling[0].text.startswith("class InotifyEmitter(EventEmitter):")
    assert [p.kind for p in built.pieces].count("definition") >= 1  # events.py's classes still come


def test_typing_keeps_the_similar_code_before_the_prefix(tmp_path: Path) -> None:
    index = sibling_workspace(tmp_path)
    base = build(*doc_at(WRITING, "observers/kqueue.py", str(tmp_path)), budget=1000, index=index, fim=True)
    assert "similar" in [p.kind for p in base.pieces]
    for typed in ("self", "self.queue_event(", "self.queue_event(cls(src_path, dest_path))"):
        doc, offset = doc_at(WRITING.replace(CURSOR, typed + CURSOR), "observers/kqueue.py", str(tmp_path))
        built = build(doc, offset, budget=1000, index=index, fim=True)
        assert before_prefix(built, REPO_FORMAT) == before_prefix(base, REPO_FORMAT), typed


def test_a_reused_context_keeps_the_head_across_new_lines(tmp_path: Path) -> None:
    """New lines change the query for similar code and the names looked up; a context handed back
    from the last build keeps every snippet, so only the file's own text is prefilled again."""
    index = sibling_workspace(tmp_path)
    base = build(*doc_at(WRITING, "observers/kqueue.py", str(tmp_path)), budget=1000, index=index, fim=True)
    typed = "self.queue_event(DirMovedEvent(src_path, dest_path))\n            FileMovedEvent\n            "
    doc, offset = doc_at(WRITING.replace(CURSOR, typed + CURSOR), "observers/kqueue.py", str(tmp_path))
    fresh = build(doc, offset, budget=1000, index=index, fim=True)
    assert fresh.prompt.snippets != base.prompt.snippets  # what gathering anew would have cost
    reused = build(doc, offset, budget=1000, index=index, fim=True, reuse_context=base.context)
    assert reused.prompt.snippets == base.prompt.snippets and reused.context is base.context
    assert before_prefix(reused, REPO_FORMAT)[:-1] == before_prefix(base, REPO_FORMAT)[:-1]


def test_a_reused_context_chooses_recent_edits_of_this_document_anew() -> None:
    """Kept, an edit chosen as far from the cursor would repeat the very lines being edited once the
    cursor moved onto them."""
    recent = RecentEdits(context_lines=0)
    lines = [f"v{i} = {i}" for i in range(300)]
    doc = Document("file:///w/a.py", "python", "\n".join(lines) + "\n")
    recent.record(doc, 2)
    base = build(doc, doc.offset_at(299, 0), budget=300, recent_edits=recent)
    assert "# v2 = 2" in text_of(base)
    near = build(doc, doc.offset_at(4, 0), budget=300, recent_edits=recent, reuse_context=base.context)
    assert "Compare this snippet from a.py" not in text_of(near)
