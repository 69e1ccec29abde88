"""Language specs: lookup by languageId and extension, and node types that exist in each grammar."""

from __future__ import annotations

import re
from dataclasses import fields

import pytest

from ghostwright.server.context.languages import _SPECS, grammar, spec_for

NAMES = sorted(_SPECS)


@pytest.mark.parametrize(
    ("language_id", "path", "expected"),
    [
        ("python", None, "python"),
        ("typescriptreact", None, "tsx"),
        ("javascriptreact", None, "javascript"),
        ("CPP", None, "cpp"),
        (None, "src/a.hpp", "cpp"),
        ("", "lib/x.mjs", "javascript"),
        ("plaintext", "notes.txt", None),
        ("plaintext", "main.go", "go"),
        (None, None, None),
    ],
)
def test_spec_for(language_id: str | None, path: str | None, expected: str | None) -> None:
    spec = spec_for(language_id, path)
    assert (spec.name if spec else None) == expected


@pytest.mark.parametrize("name", NAMES)
def test_every_node_type_exists_in_the_grammar(name: str) -> None:
    """A typo in a node type name would silently disable a slice: check them all."""
    spec, language = _SPECS[name], grammar(name)
    assert language is not None
    for field in fields(spec):
        value = getattr(spec, field.name)
        if isinstance(value, frozenset):
            for node_type in value:
                known = language.id_for_node_kind(node_type, True) is not None
                assert known, (field.name, node_type)


@pytest.mark.parametrize("name", NAMES)
def test_block_opener_and_stops_are_sane(name: str) -> None:
    spec = _SPECS[name]
    re.compile(spec.block_opener)
    assert spec.comment and all(stop.startswith("\n") for stop in spec.top_level_stops)
