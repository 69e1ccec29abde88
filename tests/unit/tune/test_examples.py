"""Hole spans and the held-out evaluation holes: pure functions, no model."""

from __future__ import annotations

from ghostwright.tune.corpus import SourceFile
from ghostwright.tune.examples import holes_in
from ghostwright.tune.uplift import evaluation_holes, held_out_holes

TEXT = "def f(a):\n    x = compute(a)\n    y = other(x)\n\n    return x + y\n"


def test_a_span_blanks_its_lines_to_one_line_of_the_first_ones_indentation() -> None:
    hole = holes_in(SourceFile("m.py", TEXT))[1]
    span = hole.widened(TEXT, 2)
    assert (span.target, span.lines) == ("x = compute(a)\n    y = other(x)", 2)
    document, offset = span.document(TEXT)
    assert document == "def f(a):\n    \n\n    return x + y\n"
    assert document[:offset] == "def f(a):\n    "
    # Putting the answer back at the cursor gives the file again.
    assert document[:offset] + span.target + document[offset:] == TEXT


def test_a_span_stops_at_the_end_of_the_file() -> None:
    hole = holes_in(SourceFile("m.py", TEXT))[-1]
    assert hole.widened(TEXT, 6).lines == 2  # the last line and the empty one after the final newline


def test_evaluation_holes_are_never_scored_holes() -> None:
    files = [SourceFile(f"m{i}.py", "".join(f"value_{i}_{k} = compute({k})\n" for k in range(40))) for i in range(3)]
    scored = held_out_holes(files, 30)
    chosen = evaluation_holes(files, scored, 20)
    assert len(chosen) == 20
    assert not {(h.path, h.line) for _, h in chosen} & {(h.path, h.line) for _, h in scored}
