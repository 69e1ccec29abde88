"""Cleaning raw model output into a suggestion."""

from __future__ import annotations

import pytest

from ghostwright.server.completion.postprocess import clean_completion, clean_partial


def clean(raw: str, prefix: str, suffix: str = "\n", mode: str = "multi",
          language: str | None = "python") -> str | None:
    return clean_completion(raw, prefix=prefix, suffix=suffix, mode=mode, language=language)


def test_single_line_keeps_the_first_line() -> None:
    raw = "len(values)\n    print(x)\n"
    assert clean(raw, "    return total / ", mode="single") == "len(values)"


def test_multi_line_stops_at_the_dedent_below_the_block() -> None:
    prefix = "def f(x):\n    "
    raw = "y = x * 2\n    return y\n\nprint(f(3))\n"
    assert clean(raw, prefix) == "y = x * 2\n    return y"


def test_multi_line_after_a_block_opener_needs_deeper_lines() -> None:
    raw = "\n    return 1\ndef g():\n    pass"
    assert clean(raw, "def f():") == "\n    return 1"


def test_nested_blocks_are_kept() -> None:
    prefix = "def f(xs):\n    "
    raw = "for x in xs:\n        if x:\n            yield x\n    return\nx = 1"
    assert clean(raw, prefix) == "for x in xs:\n        if x:\n            yield x\n    return"


def test_top_level_stops_at_the_next_definition() -> None:
    raw = "def a():\n    return 1\n\n\ndef b():\n    return 2\n"
    assert clean(raw, "import os\n\n") == "def a():\n    return 1"


def test_closing_brace_the_suffix_already_has_is_dropped() -> None:
    prefix = "function f(x) {\n  "
    raw = "const y = x * 2;\n  return y;\n}\n\nfunction g() {}"
    assert clean(raw, prefix, "\n}\n", language="javascript") == "const y = x * 2;\n  return y;"


def test_closing_brace_the_suffix_lacks_is_kept() -> None:
    raw = "\n  return x;\n}\n\nfunction g() {"
    assert clean(raw, "function f(x) {", "", language="javascript") == "\n  return x;\n}"


def test_top_level_brace_definition_ends_at_its_closer() -> None:
    raw = "function g() {\n  return 1;\n}\nconsole.log(g());"
    assert clean(raw, "\n", "", language="javascript") == "function g() {\n  return 1;\n}"


def test_lua_end_is_a_closer() -> None:
    raw = "\n  return nil\nend\nlocal x = 1"
    assert clean(raw, "if not file then", "", language="lua") == "\n  return nil\nend"


@pytest.mark.parametrize(
    "raw",
    [
        "x = 1\n```\nHere is the explanation",
        "x = 1\nHere is how it works:",
        "x = 1\nThis function returns one.",
        "x = 1\n\nExplanation: the value",
    ],
)
def test_markdown_fences_and_prose_are_cut(raw: str) -> None:
    assert clean(raw, "def f():\n    ") == "x = 1"


def test_a_fence_or_prose_first_gives_nothing() -> None:
    assert clean("```python\ndef f():\n    pass\n```", "\n") is None
    assert clean("Here is the code you asked for:\n", "\n") is None


def test_prose_words_inside_a_line_are_fine() -> None:
    assert clean('Here is the plan")', 'print("', '")\n', mode="single") == "Here is the plan"


def test_closer_provided_by_the_suffix_is_cut() -> None:
    assert clean("a, b)", "foo(", ")\n", mode="single") == "a, b"
    assert clean("a), b", "foo(", ")\n", mode="single") == "a"
    assert clean("x > 0) {", "if (", ") {\n", mode="single", language="javascript") == "x > 0"


def test_unclosed_bracket_is_closed_when_the_suffix_closes_the_line() -> None:
    assert clean("bar(1", "foo(", ")\n", mode="single") == "bar(1)"
    assert clean("bar(1", "x = ", "\n", mode="single") == "bar(1"


def test_brackets_inside_strings_do_not_count() -> None:
    assert clean('")" + x', "f(", ")\n", mode="single") == '")" + x'
    assert clean('hi")', 'print("', '")\n', mode="single") == "hi"


def test_suffix_overlap_is_trimmed() -> None:
    assert clean("x]", "a[", "]\n", mode="single") == "x"
    assert clean("value;", "let v = ", ";\n", mode="single", language="javascript") == "value"
    # An identifier that merely starts the suffix is not an overlap.
    assert clean("a + b", "x = (", "b)\n", mode="single") == "a + b"


def test_multi_line_overlap_with_following_lines_is_trimmed() -> None:
    prefix = "def f(x):\n    "
    assert clean("y = 1\n    return y", prefix, "\n    return y\n") == "y = 1"


def test_empty_and_whitespace_give_none() -> None:
    assert clean("", "x = ", mode="single") is None
    assert clean("   \n\n", "def f():\n    ") is None
    assert clean("\nprint(1)", "x = ", mode="single") is None


def test_repeating_the_line_above_gives_none() -> None:
    assert clean("total += x", "for x in xs:\n    total += x\n    ") is None
    assert clean("oo(1)", "foo(1)\nf", "\n", mode="single") is None
    assert clean("a = 1\nb = 2", "a = 1\nb = 2\n") is None
    assert clean("total += 2 * x", "for x in xs:\n    total += x\n    ") == "total += 2 * x"


def test_newline_kept_before_closers_after_the_cursor() -> None:
    assert clean("\n  return 1;\n}", "function f() {", "}\n", language="javascript") == (
        "\n  return 1;\n"
    )


def test_unknown_language_uses_indentation_only() -> None:
    assert clean("- eggs\n- milk", "- bread\n", "", language=None) == "- eggs\n- milk"


def test_partial_shows_complete_lines_and_says_when_to_stop() -> None:
    prefix = "def f(x):\n    "
    assert clean_partial("y = x", prefix=prefix, suffix="", mode="multi", language="python") == (
        clean_partial("", prefix=prefix, suffix="", mode="multi", language="python")
    )
    partial = clean_partial("y = x\n    ret", prefix=prefix, suffix="", mode="multi",
                            language="python")
    assert partial.text == "y = x\n" and not partial.done
    partial = clean_partial("y = x\n    return y\nprint(", prefix=prefix, suffix="",
                            mode="multi", language="python")
    assert partial.text == "y = x\n    return y" and partial.done
    single = clean_partial("len(x)\nfoo", prefix="return ", suffix="", mode="single",
                           language="python")
    assert single.text == "len(x)" and single.done
    assert clean_partial("```", prefix="\n", suffix="", mode="multi", language=None).done


def test_leading_blank_lines_on_an_indented_empty_line_are_dropped() -> None:
    prefix = 'def f(n):\n    """Doc."""\n    '
    raw = "\n    if n <= 1:\n        return 1\n    return n\n"
    assert clean(raw, prefix) == "if n <= 1:\n        return 1\n    return n"
    streamed = clean_partial("\n\n    if n <= 1:\n", prefix=prefix, suffix="\n", mode="multi", language="python")
    assert streamed.text == "if n <= 1:\n"
    assert clean_partial("\n  ", prefix=prefix, suffix="\n", mode="multi", language="python").text == ""


def test_leading_blank_line_kept_at_column_0_or_after_code() -> None:
    assert clean("\n\ndef b():\n    return 2\n", "def a():\n    return 1\n") == "\n\ndef b():\n    return 2"
    assert clean("\n    return 1", "def f():") == "\n    return 1"
