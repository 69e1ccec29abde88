"""AGENTS.md precedence: each file speaks for its tree, deeper files come last and override."""

from __future__ import annotations

import os
from pathlib import Path

from ghostwright.server.agents_md import (
    HEADER,
    TRUNCATED,
    AgentsInstructions,
    Section,
    owning_root,
    render,
    scope_chain,
)
from ghostwright.server.context.secrets import PLACEHOLDER


def test_scope_chain_root_to_directory() -> None:
    root = Path("/w")
    assert scope_chain(root, Path("/w/a/b")) == [Path("/w"), Path("/w/a"), Path("/w/a/b")]
    assert scope_chain(root, root) == [root]
    assert scope_chain(root, Path("/elsewhere/a")) == []


def test_owning_root_is_the_innermost() -> None:
    roots = [Path("/w"), Path("/w/sub"), Path("/other")]
    assert owning_root(Path("/w/sub/x.py"), roots) == Path("/w/sub")
    assert owning_root(Path("/w/x.py"), roots) == Path("/w")
    assert owning_root(Path("/w"), roots) == Path("/w")
    assert owning_root(Path("/nowhere/x.py"), roots) is None
    assert owning_root(Path("/wx/x.py"), roots) is None  # a name prefix is not a parent


def test_render_orders_shallow_to_deep_and_marks_overrides() -> None:
    text = render([Section("", "Use tabs."), Section("src", "Use 4 spaces."), Section("src/api", "No prints.")])
    assert text.startswith(HEADER)
    assert text.index("Use tabs.") < text.index("Use 4 spaces.") < text.index("No prints.")
    assert "## AGENTS.md for the whole project\nUse tabs." in text
    assert "## AGENTS.md for src/ (overrides the sections above)\nUse 4 spaces." in text
    assert "## AGENTS.md for src/api/ (overrides the sections above)\nNo prints." in text


def test_render_single_section_is_not_an_override() -> None:
    text = render([Section("lib", "Be brief.")])
    assert "## AGENTS.md for lib/\nBe brief." in text
    assert "overrides" not in text.replace(HEADER, "")


def test_render_empty() -> None:
    assert render([]) == ""
    assert render([Section("", "  \n")]) == ""
    assert render([Section("", "x")], max_chars=10) == ""


def test_cap_cuts_the_shallowest_first() -> None:
    deep = Section("pkg", "DEEP " * 20)
    shallow = Section("", "SHALLOW " * 200)
    text = render([shallow, deep], max_chars=len(HEADER) + 400)
    assert len(text) <= len(HEADER) + 400
    assert ("DEEP " * 20).strip() in text  # the most specific file survives whole
    assert TRUNCATED in text and "SHALLOW" in text  # the general one is cut, its start kept
    assert text.index("SHALLOW") < text.index("DEEP")  # order is still shallow -> deep


def test_cap_drops_a_stub_rather_than_keep_a_few_words() -> None:
    deep = Section("pkg", "D" * 300)
    text = render([Section("", "S" * 500), deep], max_chars=len(HEADER) + 360)
    assert "S" * 5 not in text and "D" * 300 in text


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_files_from_root_to_document(tmp_path: Path) -> None:
    write(tmp_path / "AGENTS.md", "root rule")
    write(tmp_path / "src/AGENTS.md", "src rule")
    write(tmp_path / "src/deep/AGENTS.md", "deep rule")
    write(tmp_path / "other/AGENTS.md", "sibling rule")  # not on the path: never applies
    doc = write(tmp_path / "src/deep/mod.py", "x = 1\n")
    agents = AgentsInstructions()
    sections = agents.sections_for(doc, [tmp_path])
    assert sections == [Section("", "root rule"), Section("src", "src rule"), Section("src/deep", "deep rule")]
    shallow = agents.sections_for(tmp_path / "src/top.py", [tmp_path])
    assert [s.text for s in shallow] == ["root rule", "src rule"]
    # A directory is its own scope (ask about a folder).
    assert [s.text for s in agents.sections_for(tmp_path / "other", [tmp_path])] == ["root rule", "sibling rule"]


def test_outside_every_root_gets_nothing(tmp_path: Path) -> None:
    write(tmp_path / "ws/AGENTS.md", "ws rule")
    write(tmp_path / "AGENTS.md", "above the workspace")
    doc = write(tmp_path / "elsewhere/x.py", "")
    agents = AgentsInstructions()
    assert agents.instructions_for(doc, [tmp_path / "ws"]) == ""
    # Above the root does not count either, even though it is a parent of the document.
    inside = write(tmp_path / "ws/a.py", "")
    assert [s.text for s in agents.sections_for(inside, [tmp_path / "ws"])] == ["ws rule"]


def test_change_is_picked_up_and_deletion_forgotten(tmp_path: Path) -> None:
    rules = write(tmp_path / "AGENTS.md", "first version")
    doc = write(tmp_path / "a.py", "")
    agents = AgentsInstructions()
    assert "first version" in agents.instructions_for(doc, [tmp_path])
    rules.write_text("second, longer version", encoding="utf-8")
    stat = rules.stat()
    os.utime(rules, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # coarse-mtime filesystems
    assert "second, longer version" in agents.instructions_for(doc, [tmp_path])
    rules.unlink()
    assert agents.instructions_for(doc, [tmp_path]) == ""


def test_unchanged_file_is_served_from_cache(tmp_path: Path) -> None:
    rules = write(tmp_path / "AGENTS.md", "cached rule")
    doc = write(tmp_path / "a.py", "")
    agents = AgentsInstructions()
    agents.instructions_for(doc, [tmp_path])
    stat = rules.stat()
    # Same size and mtime: the cache answers (it does not re-read), until invalidated.
    rules.write_text("edited rule", encoding="utf-8")
    os.utime(rules, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert "cached rule" in agents.instructions_for(doc, [tmp_path])
    agents.invalidate(rules)
    assert "edited rule" in agents.instructions_for(doc, [tmp_path])


def test_secrets_are_scrubbed(tmp_path: Path) -> None:
    write(tmp_path / "AGENTS.md", 'Deploy with API_KEY="sk-live-abcdefghijklmnopqrstuvwx" and be careful.')
    text = AgentsInstructions().instructions_for(write(tmp_path / "a.py", ""), [tmp_path])
    assert "abcdefghijklmnop" not in text
    assert PLACEHOLDER in text and "be careful." in text


def test_directory_named_agents_md_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "AGENTS.md").mkdir()
    assert AgentsInstructions().instructions_for(write(tmp_path / "a.py", ""), [tmp_path]) == ""


def test_compact_form_for_the_small_model() -> None:
    from ghostwright.server.agents_md import COMPACT_HEADER

    text = render([Section("", "# Style\n\nUse tabs.\n"), Section("src", "## Src\nUse 4 spaces.")], compact=True)
    assert text == f"{COMPACT_HEADER}\nUse tabs.\nUse 4 spaces.\n"  # same order: the deeper rule last
    assert render([Section("", "# Only a heading\n")], compact=True) == ""
    capped = render([Section("", "S" * 500), Section("pkg", "D" * 100)], max_chars=len(COMPACT_HEADER) + 200,
                    compact=True)
    assert capped.endswith("D" * 100 + "\n") and TRUNCATED in capped and len(capped) <= len(COMPACT_HEADER) + 200


def test_override_file_replaces_agents_md_in_its_directory(tmp_path: Path) -> None:
    write(tmp_path / "AGENTS.md", "root rule")
    write(tmp_path / "src/AGENTS.md", "src rule")
    write(tmp_path / "src/AGENTS.override.md", "temporary src rule")
    write(tmp_path / "AGENTS.override.md", "  \n")  # empty: AGENTS.md still counts there
    doc = write(tmp_path / "src/a.py", "")
    assert [s.text for s in AgentsInstructions().sections_for(doc, [tmp_path])] == ["root rule", "temporary src rule"]
