"""Choosing among verified candidates: rote answers to the examples, and agreement on probes."""

from __future__ import annotations

from ghostwright.server.verify.candidate_choice import Voter, agreement, special_cases_examples, support
from ghostwright.server.verify.examples import extract_examples

TRIANGLE = "right_angle_triangle(3, 4, 5) == True\nright_angle_triangle(1, 2, 3) == False\n"


def test_a_candidate_that_answers_the_examples_by_rote_is_caught() -> None:
    examples = extract_examples(TRIANGLE, "right_angle_triangle", ["a", "b", "c"])
    rote = ("def right_angle_triangle(a, b, c):\n    if a == 3 and b == 4 and c == 5:\n        return True\n"
            "    return False\n")
    honest = "def right_angle_triangle(a, b, c):\n    return a * a + b * b == c * c\n"
    assert special_cases_examples(rote, ["a", "b", "c"], examples, "right_angle_triangle")
    assert not special_cases_examples(honest, ["a", "b", "c"], examples, "right_angle_triangle")


def test_base_cases_are_not_rote_answers() -> None:
    examples = extract_examples(">>> fib(1)\n1\n>>> fib(10)\n55\n", "fib", ["n"])
    base_case = "def fib(n):\n    if n == 1 or n == 2:\n        return 1\n    return fib(n - 1) + fib(n - 2)\n"
    assert not special_cases_examples(base_case, ["n"], examples, "fib")
    assert special_cases_examples("def fib(n):\n    if 10 == n:\n        return 55\n    return 1\n", ["n"],
                                  examples, "fib")


def test_agreement_counts_only_probes_both_ran() -> None:
    assert agreement(["= 1", "= 2", None, "! ValueError"], ["= 1", "= 3", "= 4", "! ValueError"]) == 2 / 3
    assert agreement([None], ["= 1"]) == 0.0


def test_the_behaviour_most_decodes_share_gets_most_support() -> None:
    right, also_right, odd_one = ("= 0", "= 1", "= 2"), ("= 0", "= 1", "= 2"), ("! ValueError", "= 1", "= 9")
    scores = support([Voter(odd_one, 1.0, 1), Voter(right, 1.0, 1), Voter(also_right, 0.5, 2)])
    assert scores[1] > scores[0] and scores[2] > scores[0]
    assert scores[1] == round(1 / 3 + 2 * 0.5, 6)  # a third of the odd one, all of the two repeats at half weight
    assert support([Voter(right, 0.0, 3), Voter(odd_one, 1.0, 1)]) == [0.333333, 0.0]  # weight 0 gives nothing
