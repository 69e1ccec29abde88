"""The VS Code extension's own unit tests (Node's test runner over its pure modules:
settings, streaming, status bar text, crash policy, executable lookup), run by `npm test`."""

from __future__ import annotations

import re
from pathlib import Path

from vscode_env import npm


def test_extension_unit_tests(tools: dict[str, str], extension_deps: Path) -> None:
    proc = npm(tools, "test", what="npm test (extension unit tests)")
    passed = re.search(r"^(?:#|ℹ) pass (\d+)$", proc.stdout, re.MULTILINE)
    failed = re.search(r"^(?:#|ℹ) fail (\d+)$", proc.stdout, re.MULTILINE)
    assert passed and failed, f"no node --test summary in:\n{proc.stdout[-2000:]}"
    assert int(failed.group(1)) == 0 and int(passed.group(1)) > 0, proc.stdout[-4000:]
