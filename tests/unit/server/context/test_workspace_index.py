"""The workspace symbol index: which files it reads, what it records, and how it stays fresh."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from ghostwright.server.context.index_watcher import IndexWatcher
from ghostwright.server.context.workspace_files import IgnoreRules, iter_files
from ghostwright.server.context.workspace_index import WorkspaceIndex

FILES = {
    "pkg/util.py": 'def helper(x: int) -> str:\n    """Format x."""\n    return str(x)\n',
    "pkg/models.py": "class User:\n    def name(self) -> str:\n        return ''\n",
    "web/app.ts": "export function render(id: string): void {}\n",
    "web/keep.log.ts": "export const kept = () => 1;\n",
    "cmd/main.go": "package main\n\nfunc Run() {}\n",
    "generated/out.py": "def generated(): pass\n",
    "docs/notes.md": "# not code\n",
    "sub/.gitignore": "*.py\n!keep.py\n",
    "sub/skip.py": "def skipped(): pass\n",
    "sub/keep.py": "def kept_by_negation(): pass\n",
    "node_modules/lib/index.js": "function vendored() {}\n",
    ".venv/lib/site.py": "def venv(): pass\n",
    "build/out.js": "function built() {}\n",
    ".env": "API_KEY=abc123def456\n",
    "secrets.py.pem": "-----BEGIN PRIVATE KEY-----\n",
    "web/.env.local.ts": "export function leaked() {}\n",
}
IGNORE = "generated/\n*.log\n!keep.log.ts\n/build\n"


def make_tree(root: Path) -> None:
    for relative, text in FILES.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (root / ".gitignore").write_text(IGNORE)
    (root / "pkg/blob.py").write_bytes(b"def binary():\x00 pass\n")
    (root / "pkg/huge.py").write_text("def huge(): pass\n" + "x = 1\n" * 400)


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_walk_honours_gitignore_and_skips_junk_and_secrets(tmp_path: Path) -> None:
    make_tree(tmp_path)
    found = sorted(rel for _, rel in iter_files(tmp_path, IgnoreRules(tmp_path), max_bytes=1000))
    assert found == ["cmd/main.go", "pkg/models.py", "pkg/util.py", "sub/keep.py", "web/app.ts",
                     "web/keep.log.ts"]


def test_ignore_rules_layering(tmp_path: Path) -> None:
    make_tree(tmp_path)
    rules = IgnoreRules(tmp_path)
    assert rules.path_ignored("generated/out.py")
    assert rules.path_ignored("sub/skip.py") and not rules.path_ignored("sub/keep.py")
    assert rules.path_ignored("build/out.js") and not rules.path_ignored("pkg/build.py")
    assert rules.path_ignored("node_modules/x/y.js")
    assert not rules.path_ignored("pkg/util.py")


def test_scan_lookup_and_definitions_in(tmp_path: Path) -> None:
    make_tree(tmp_path)
    index = WorkspaceIndex(tmp_path, max_file_bytes=1000)
    assert index.scan() == 6 and index.complete
    [helper] = index.lookup(["helper"])
    assert (helper.path, helper.line, helper.signature, helper.doc) == (
        "pkg/util.py", 0, "def helper(x: int) -> str:", '"""Format x."""'
    )
    names = [d.name for d in index.lookup(["render", "nope", "User", "render"])]
    assert names == ["render", "User"]
    assert [(d.name, d.kind, d.container) for d in index.definitions_in("pkg/models.py")] == [
        ("User", "class", None), ("name", "method", "User")
    ]
    assert index.definitions_in(tmp_path / "pkg/models.py") == index.definitions_in("pkg/models.py")
    for hidden in ("generated", "skipped", "vendored", "venv", "built", "leaked", "binary", "huge"):
        assert index.lookup([hidden]) == [], hidden
    assert index.relative_path(tmp_path / "pkg" / "util.py") == "pkg/util.py"
    assert index.relative_path("/elsewhere/x.py") is None


def test_update_and_remove(tmp_path: Path) -> None:
    make_tree(tmp_path)
    index = WorkspaceIndex(tmp_path, max_file_bytes=1000)
    index.scan()
    (tmp_path / "pkg/util.py").write_text("def renamed(): pass\n")
    index.update_file(tmp_path / "pkg/util.py")
    assert index.lookup(["helper"]) == [] and len(index.lookup(["renamed"])) == 1
    (tmp_path / "pkg/new.env").write_text("def nope(): pass\n")
    index.update_file(tmp_path / "pkg/new.env")
    assert index.lookup(["nope"]) == []
    index.remove_path(tmp_path / "pkg")
    assert index.lookup(["renamed", "User"]) == []
    assert index.lookup(["render"])


@pytest.mark.parametrize("target", ["nowhere.py", "self", "pkg/models.py"])
def test_a_file_turned_into_a_symlink_leaves_the_index(tmp_path: Path, target: str) -> None:
    """The update for a file replaced by a symlink (dangling, looping, or onto another indexed file)
    must drop that file's own entry: the index never follows links, so resolving the link's name
    (to its target, or into RuntimeError for a loop) left the stale definitions behind."""
    make_tree(tmp_path)
    index = WorkspaceIndex(tmp_path, max_file_bytes=1000)
    index.scan()
    link = tmp_path / "pkg/util.py"
    link.unlink()
    link.symlink_to(link if target == "self" else tmp_path / target)
    assert index.relative_path(link) == "pkg/util.py"
    index.update_file(link)
    assert index.lookup(["helper"]) == [] and "pkg/util.py" not in index.indexed_paths()
    assert index.lookup(["User"])  # a link onto another file leaves that file's own entry alone


def test_background_scan_does_not_block(tmp_path: Path) -> None:
    make_tree(tmp_path)
    index = WorkspaceIndex(tmp_path, max_file_bytes=1000)
    began = time.monotonic()
    index.start()
    assert time.monotonic() - began < 0.5
    assert index.wait(10) and index.complete
    assert index.lookup(["helper"])


def test_scan_budget_gives_a_partial_index(tmp_path: Path) -> None:
    make_tree(tmp_path)
    index = WorkspaceIndex(tmp_path, scan_budget_s=0.0)
    index.scan()
    assert not index.complete and index.wait(0)


def test_watcher_applies_events_after_the_debounce(tmp_path: Path) -> None:
    make_tree(tmp_path)
    index = WorkspaceIndex(tmp_path, max_file_bytes=1000)
    index.scan()
    watcher = IndexWatcher(index, debounce_s=0.05)
    watcher.start()
    try:
        (tmp_path / "pkg/fresh.py").write_text("def fresh(): pass\n")
        assert wait_until(lambda: len(index.lookup(["fresh"])) == 1)
        (tmp_path / "pkg/fresh.py").write_text("def fresher(): pass\n")
        assert wait_until(lambda: index.lookup(["fresh"]) == [] and index.lookup(["fresher"]))
        (tmp_path / "pkg/fresh.py").rename(tmp_path / "pkg/moved.py")
        assert wait_until(lambda: [d.path for d in index.lookup(["fresher"])] == ["pkg/moved.py"])
        (tmp_path / "pkg/moved.py").unlink()
        assert wait_until(lambda: index.lookup(["fresher"]) == [])
        (tmp_path / "newdir").mkdir()
        (tmp_path / "newdir/a.go").write_text("package a\n\nfunc InNewDir() {}\n")
        assert wait_until(lambda: len(index.lookup(["InNewDir"])) == 1)
        (tmp_path / "node_modules/lib/more.js").write_text("function ignoredMore() {}\n")
    finally:
        watcher.stop()
    assert index.lookup(["ignoredMore"]) == []
    assert not watcher._worker.is_alive()


def test_watcher_coalesces_a_burst_into_one_update(tmp_path: Path) -> None:
    make_tree(tmp_path)
    index = WorkspaceIndex(tmp_path, max_file_bytes=1000)
    calls: list[str] = []
    index.update_file = calls.append  # type: ignore[method-assign]
    watcher = IndexWatcher(index, debounce_s=10)

    class Event:
        def __init__(self, kind: str, path: Path) -> None:
            self.event_type, self.src_path, self.is_directory = kind, str(path), False

    for _ in range(20):
        watcher.on_any_event(Event("modified", tmp_path / "pkg/util.py"))  # type: ignore[arg-type]
    watcher.on_any_event(Event("modified", tmp_path / ".git/index"))  # type: ignore[arg-type]
    watcher.flush()
    assert calls == [str(tmp_path / "pkg/util.py")]


@pytest.mark.parametrize("twice", [False, True])
def test_watcher_stop_is_idempotent(tmp_path: Path, twice: bool) -> None:
    watcher = IndexWatcher(WorkspaceIndex(tmp_path))
    watcher.start()
    watcher.stop()
    if twice:
        watcher.stop()
    assert not watcher._worker.is_alive()
