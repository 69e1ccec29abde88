"""Which prompts get their last token re-chosen by the engine."""

from __future__ import annotations

import pytest

from ghostwright.server.completion.service import worth_healing


@pytest.mark.parametrize(("prefix", "heal"), [
    ("def f():\n    ret", True),  # a half-typed word
    ("x = my_var_", True),
    ("def f():\n    ", True),  # a fresh line's indentation
    ("if x:\n\t\t", True),
    ("x = 1\n", False),  # column 0: a blank line may be meant
    ("print(x, ", False),  # after punctuation and a space the token is complete
    ("", False),
])
def test_worth_healing(prefix: str, heal: bool) -> None:
    assert worth_healing(prefix) is heal
