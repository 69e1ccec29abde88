"""Reading a docstring's examples: each format, and what is left out."""

from __future__ import annotations

import pytest

from ghostwright.server.verify.doctest_check import check_candidate
from ghostwright.server.verify.examples import extract_examples


def calls(docstring: str, name: str = "f", parameters: list[str] | None = None) -> list[tuple[str, str]]:
    return [(e.source.strip(), e.want.strip()) for e in extract_examples(docstring, name, parameters)]


def test_doctest_examples_and_written_out_ones() -> None:
    doc = """Add.

    >>> f(1, 2)
    3

    f([1], 2) == [1, 2]
    f(0, 0) ➞ 0
    """
    assert calls(doc, parameters=["a", "b"]) == [("f(1, 2)", "3"), ("f([1], 2)", "[1, 2]"), ("f(0, 0)", "0")]


def test_a_broken_doctest_block_does_not_hide_the_others() -> None:
    doc = 'Strip.\n>>> f("ab\ncd")\n\'bd\'\n>>> f("abc")\n\'bc\'\n'  # a real newline inside the first call
    assert calls(doc) == [('f("abc")', "'bc'")]


@pytest.mark.parametrize(("line", "expected"), [
    ('For num = "AB" the output should be 1.', ("f(num='AB')", "1")),
    ("For lst = [1,2,3] the output should be 14", ("f(lst=[1, 2, 3])", "14")),
    ('For s = "abcde", c = "ae", the result should be (\'bcd\',False)', ("f(s='abcde', c='ae')", "('bcd',False)")),
    ('For N = 150, the sum of digits will be 6 the output should be "110".', ("f(N=150)", '"110"')),
])
def test_for_parameter_the_output_should_be(line: str, expected: tuple[str, str]) -> None:
    assert calls(f"Doc.\n\nExamples:\n    {line}\n", parameters=["num", "lst", "s", "c", "N"]) == [expected]


def test_input_and_output_blocks() -> None:
    doc = """Doc.

    Example 1:
        Input: arr = [-3, -4, 5], k = 3
        Output: [-4, -3, 5]

    Example 2:
        Input: 12
        Output: (4, 6)
        Explanation: words, not a value.

    Example 3:
        Input:
            arr : [1, 2]
            k : 1
        Output: 24 # sum of 21 + 3
    """
    assert calls(doc, parameters=["arr", "k"]) == [("f(arr=[-3, -4, 5], k=3)", "[-4, -3, 5]"), ("f(12)", "(4, 6)"),
                                                   ("f(arr=[1, 2], k=1)", "24")]


def test_names_that_are_not_parameters_and_values_that_are_not_literals_are_left_out() -> None:
    doc = """Doc.

    For x = 1 the output should be 2
    For lst = [1] the output should be two
    Input: grid = g
    Output: 3
    f(a) => False
    """
    assert calls(doc, parameters=["lst", "grid"]) == []
    assert calls(doc) == [("f(x=1)", "2")]  # without the parameters, any name is taken


def test_the_canonical_solution_passes_examples_read_by_parameter() -> None:
    doc = """Largest k numbers, sorted.

    Input: arr = [-3, -4, 5], k = 2
    Output: [-3, 5]
    For arr = [4, -4, 4], k = 2 the output should be [4, 4]
    """
    examples = extract_examples(doc, "maximum", ["arr", "k"])
    good = "def maximum(arr, k):\n    return sorted(sorted(arr)[len(arr) - k:])\n"
    bad = "def maximum(arr, k):\n    return sorted(arr)[:k]\n"
    assert len(examples) == 2
    assert check_candidate([good], examples).all_passed
    assert check_candidate([bad], examples).passed == 0


def test_a_bool_is_not_the_number_a_docstring_shows() -> None:
    doc = """Count the sentences that start with "I".

    >>> f("Hello world")
    0

    f("I am. I x") == 2
    """
    examples = extract_examples(doc, "f", ["s"])
    by_parity = "def f(s):\n    return len(s) % 2 == 0\n"  # False == 0 and True == 1, but not what was asked
    counting = "def f(s):\n    return sum(p.strip().startswith('I') for p in s.split('.'))\n"
    assert check_candidate([by_parity], examples).passed == 0
    assert check_candidate([counting], examples).all_passed


def test_probe_outputs_are_recorded_and_a_looping_probe_is_cut_off() -> None:
    examples = extract_examples(">>> f([1, 2])\n3\n", "f", ["xs"])
    source = ("def f(xs):\n    while not xs:\n        pass\n    if xs != [1, 2]:\n        print('noise')\n"
              "    return sum(xs)\n")
    result = check_candidate([source], examples, probes=["f([])", "f([5])", "f(7)", "f({3, 1, 2})"])
    assert result.all_passed
    assert result.outputs == ("! timeout", "= 5", "! TypeError", "= 6")
