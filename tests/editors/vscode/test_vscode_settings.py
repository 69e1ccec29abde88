"""The VS Code extension declares the server's settings once, in package.json; its defaults
must be the server's (``ghostwright.server.settings``), or a user who never touches a setting
would get different behaviour in VS Code than in any other editor."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ghostwright.server.settings import defaults_as_camel, parse_settings

EXTENSION = Path(__file__).resolve().parents[3] / "editor-clients" / "vscode"
PREFIX = "ghostwright."


def _declared() -> dict[str, dict[str, Any]]:
    package = json.loads((EXTENSION / "package.json").read_text(encoding="utf-8"))
    properties = package["contributes"]["configuration"]["properties"]
    return {key[len(PREFIX):]: schema for key, schema in properties.items() if key.startswith(PREFIX)}


def _client_only() -> set[str]:
    """The keys the extension keeps to itself (CLIENT_ONLY_KEYS in src/common/settings.ts)."""
    source = (EXTENSION / "src" / "common" / "settings.ts").read_text(encoding="utf-8")
    match = re.search(r"CLIENT_ONLY_KEYS[^=]*=\s*\[([^\]]*)\]", source)
    assert match, "CLIENT_ONLY_KEYS not found in settings.ts"
    return set(re.findall(r"'([^']+)'", match.group(1)))


def test_package_json_defaults_equal_the_server_defaults() -> None:
    declared = _declared()
    client_only = _client_only()
    assert client_only <= declared.keys(), f"client-only keys not declared: {client_only - declared.keys()}"
    server_side = {key: schema.get("default") for key, schema in declared.items() if key not in client_only}
    assert server_side == defaults_as_camel()


def test_declared_choices_and_ranges_are_accepted_by_the_server() -> None:
    """Every enum value and both ends of every range in package.json parse without a warning."""
    declared = _declared()
    client_only = _client_only()
    checked = 0
    for key, schema in declared.items():
        if key in client_only:
            continue
        values = list(schema.get("enum", []))
        values += [schema[bound] for bound in ("minimum", "maximum") if bound in schema]
        for value in values:
            _, warnings = parse_settings({key: value})
            assert warnings == [], f"{key}={value!r}: {warnings}"
            checked += 1
        if "maximum" in schema:  # one past the declared range is refused, as VS Code would flag it
            _, warnings = parse_settings({key: schema["maximum"] + 1})
            assert warnings, f"{key}={schema['maximum'] + 1} accepted beyond package.json's maximum"
    assert checked, "package.json declares no enums or ranges to check"
