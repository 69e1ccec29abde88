"""Probe inputs: small changes of a docstring's example arguments, deterministic and never an example."""

from __future__ import annotations

from ghostwright.server.verify.examples import extract_examples
from ghostwright.server.verify.probe_inputs import probe_calls


def test_each_argument_of_each_example_is_varied_in_turn() -> None:
    examples = extract_examples(">>> f([1, 2, -4], 3)\nTrue\nf([5], 0) == False\n", "f", ["ops", "k"])
    probes = probe_calls(examples, "f")
    assert probes[:6] == ["f([], 3)", "f([], 0)", "f([1, 2, -4], 0)", "f([1, 2, -4], 4)", "f([5], 1)", "f([5], 3)"]
    assert "f([5], 3)" in probes  # the first argument of one example with the other's second (a mixture)
    assert not {"f([1, 2, -4], 3)", "f([5], 0)"} & set(probes)
    assert len(probes) == len(set(probes)) == 16
    assert probe_calls(examples, "f") == probes


def test_values_keep_their_type_and_stay_small() -> None:
    examples = extract_examples(">>> f('ab c', 2.5, True, x=(1, 'a'))\n1\n", "f", ["s", "r", "b", "x"])
    probes = probe_calls(examples, "f", limit=40)
    assert "f('', 2.5, True, x=(1, 'a'))" in probes
    assert "f('ab c', 4.0, True, x=(1, 'a'))" in probes
    assert "f('ab c', 2.5, False, x=(1, 'a'))" in probes
    assert "f('ab c', 2.5, True, x=())" in probes
    assert all(len(p) < 200 for p in probes)


def test_examples_without_literal_arguments_give_no_probes() -> None:
    assert probe_calls(extract_examples(">>> f(g(1))\n2\n>>> other(1)\n2\n", "f"), "f") == []
