"""The model-free parts of the code actions: targets, answers to edits, validation, minimal edits.

The model's answers below are the shapes the default model really produces (restated
functions, bodies only, cut-off answers, prose after the code, looping lines).
"""

from __future__ import annotations

import pytest

from ghostwright.server.actions.base import InvalidAnswer
from ghostwright.server.actions.code_blocks import extract_code
from ghostwright.server.actions.docstring import docstring_text
from ghostwright.server.actions.edits import Replacement, apply_all, minimal, overlapping
from ghostwright.server.actions.fix_diagnostic import without_context
from ghostwright.server.actions.implement.candidates import finished_or_looping
from ghostwright.server.actions.python_code import (
    defined_names,
    function_body,
    helper_definitions,
    import_insert_offset,
    new_imports,
    parameter_names,
    rename_lone_function,
    resume_after_docstring,
)
from ghostwright.server.actions.rewrite import whole_lines
from ghostwright.server.actions.targets import function_at, functions_in
from ghostwright.server.actions.unit_tests import keep_tests
from ghostwright.server.actions.validate import syntax_problems
from ghostwright.server.context.document import Document
from ghostwright.server.context.languages import spec_for

STUBS = '''import math


def done(x):
    return x


def todo(a, b):
    """Add them.

    >>> todo(1, 2)
    3
    """


class Box:
    # the area of the box
    def area(self):
        pass  # TODO

    def size(self):
        ...
'''


def doc(text: str, language: str = "python") -> Document:
    return Document("file:///tmp/m.py", language, text, 1)


def test_stub_functions_are_found_with_their_docstring_or_comment() -> None:
    found = {f.name: f for f in functions_in(doc(STUBS))}
    assert not found["done"].is_stub
    assert found["todo"].is_stub and found["todo"].docstring.startswith("Add them.")
    assert found["area"].is_stub and found["area"].in_class and "the area of the box" in found["area"].comment
    assert found["size"].is_stub and found["size"].docstring is None
    todo = found["todo"]
    start, end = todo.stub_span()
    assert STUBS[todo.doc_end - 3 : todo.doc_end] == '"""' and start == todo.doc_end and end == todo.end
    assert function_at(doc(STUBS), STUBS.index("def todo") + 5).name == "todo"
    assert function_at(doc(STUBS), 0) is None  # the import line is in no function
    assert function_at(doc("let x = 1;", "javascript"), 0) is None


@pytest.mark.parametrize(("answer", "body"), [
    ("def f(x):\n    '''doc'''\n    y = x\n    return y\n\nprint(f(2))\n", "y = x\nreturn y"),
    ("def f(x): return 1", "return 1"),
    ("    y = 1\n    return y", "y = 1\nreturn y"),
    ("def f(x):\n    if x:\n        return 1\n    for i in", "if x:\n    return 1"),  # cut off: whole statements
])
def test_the_body_is_read_from_the_shapes_the_model_answers_in(answer: str, body: str) -> None:
    assert function_body(answer, "f") == body


@pytest.mark.parametrize(("answer", "reason"), [
    ("def g(x):\n    return x\n", "but not f"),
    ("def f(x):\n    '''only a docstring'''\n", "empty body"),
    ("def f(x):\n    pass\n", "placeholder"),
    ("def f(x):\n    return\n", "placeholder"),  # cut off after its first word
    ("Here is how you would do it", "parses"),
])
def test_unusable_answers_say_why(answer: str, reason: str) -> None:
    with pytest.raises(InvalidAnswer, match=reason):
        function_body(answer, "f")


def test_a_stub_restated_without_a_body_is_resumed_from_its_docstring() -> None:
    restated = 'import math\n\ndef f(x):\n    """Square root.\n\n    >>> f(4)\n    2.0\n    """\n'
    assert resume_after_docstring(restated, "f") == restated.rstrip("\n") + "\n    "
    method = 'class A:\n    def f(self):\n        """Doc."""\n'
    assert resume_after_docstring(method, "f") == method + "        "


@pytest.mark.parametrize("answer", [
    'def f(x):\n    """Doc."""\n    return x\n',  # has a body: nothing to resume
    "def f(x):\n    pass\n",  # no docstring to resume from
    'def f(x): """Doc."""\n',  # docstring on the def line
    'def g(x):\n    """Doc."""\n',  # another function
    "no code at all",
])
def test_other_answers_are_not_resumed(answer: str) -> None:
    assert resume_after_docstring(answer, "f") is None


def test_code_is_taken_from_fences_closed_or_not() -> None:
    assert extract_code("Sure:\n```python\ndef f():\n    return 1\n```\nThis returns 1.") == "def f():\n    return 1\n"
    assert extract_code("```python\ndef f():\n    return 1") == "def f():\n    return 1\n"
    assert extract_code("    return 1\n```", prefill="```python\ndef f():\n") == "def f():\n    return 1\n"


def test_imports_and_helpers_the_answer_needs_are_kept() -> None:
    code = ("import math\nimport os\nfrom typing import *\nfrom typing import List\n\ndef helper(x):\n"
            "    return x * 2\n\ndef f(x: List[int]):\n    return helper(math.floor(x))\n")
    # math is used and missing; List is already imported; os is unused; a star import never goes in
    assert new_imports(code, "from typing import List\n") == ["import math"]
    assert helper_definitions(code, "return helper(x)", "def f(x):\n    pass\n") == ["def helper(x):\n    return x * 2"]
    assert helper_definitions(code, "return helper(x)", "def helper(x):\n    return 0\n") == []
    assert import_insert_offset('"""Doc."""\nimport os\n\ndef f(): pass\n') == len('"""Doc."""\nimport os\n')
    assert import_insert_offset("def f(): pass\n") == 0


def test_looping_or_finished_answers_stop_early() -> None:
    assert finished_or_looping("def f():\n    return 1\nprint(f())")
    assert finished_or_looping("    x.append(1)\n" * 4)
    assert finished_or_looping("    return (\n" + "        (\n" * 6)  # short lines in a row
    assert finished_or_looping('    return re.findall(r"' + "[*]*" * 12)  # a phrase repeating in a line
    assert not finished_or_looping("def f():\n    x = 1\n    return x")
    assert not finished_or_looping("    # " + "=" * 60)  # a rule is one character repeated, not a loop
    assert not finished_or_looping("    if a:\n        pass\n    else:\n        pass\n")


def test_a_lone_function_under_another_name_is_renamed_to_the_target() -> None:
    recursive = "def fact(n):\n    return 1 if n < 2 else n * fact(n - 1)\n"
    assert rename_lone_function(recursive, "factorial", 1, set()) == recursive.replace("fact", "factorial")
    assert rename_lone_function(recursive, "factorial", 2, set()) is None  # not the same parameters
    assert rename_lone_function(recursive, "factorial", 1, {"fact"}) is None  # the document's own helper
    two = recursive + "\ndef other(n):\n    return n\n"
    assert rename_lone_function(two, "factorial", 1, set()) is None  # which one was meant?
    assert rename_lone_function("def factorial(n):\n    return 1\n", "factorial", 1, set()) is None
    assert parameter_names('def f(a, b=1, *rest, key=None):\n    """Doc."""') == ["a", "b"]
    assert defined_names("def f(): pass\nclass C: pass\nx = 1\n") == {"f", "C"}


def test_only_errors_inside_the_edited_region_count() -> None:
    spec = spec_for("python")
    broken_elsewhere = "def f():\n    return 1\n\nx = = 2\n"
    assert syntax_problems(spec, broken_elsewhere, 0, 20) == []
    assert syntax_problems(spec, broken_elsewhere, 0, len(broken_elsewhere))
    missing = "def f():\n    return (1\n"
    assert "syntax error" in syntax_problems(spec, missing, 0, len(missing))[0]
    assert syntax_problems(None, "anything {", 0, 10) == []  # no grammar: nothing to check against


def test_minimal_edits_trim_what_did_not_change() -> None:
    text = "def f(a, b):\n    return a\n"
    trimmed = minimal(text, Replacement(0, len(text), "def f(a: int, b):\n    return a\n"))
    assert trimmed == Replacement(7, 7, ": int")
    assert minimal(text, Replacement(0, 5, text[:5])) is None
    assert apply_all(text, [Replacement(7, 7, ": int"), Replacement(11, 11, " -> int")]) == \
        "def f(a: int, b) -> int:\n    return a\n"
    assert overlapping([Replacement(0, 5, ""), Replacement(3, 8, "")])
    assert not overlapping([Replacement(0, 3, ""), Replacement(3, 8, "")])


def test_docstring_text_and_test_extraction() -> None:
    assert docstring_text('Return the area.\n    """\n') == "Return the area."
    with pytest.raises(InvalidAnswer):
        docstring_text('"""')
    answer = "def test_area():\n    assert area(2, 3) == 6\n\nprint('done')\n\ndef test_nothing():\n    pass\n"
    existing = "from shapes import area\n\n\ndef test_area():\n    assert area(1, 1) == 1\n"
    tests = keep_tests(answer, existing, "shapes", "area")
    assert "def test_area_2():" in tests and "print" not in tests and "test_nothing" not in tests
    assert "from shapes import area" not in tests  # the file already imports it
    with pytest.raises(InvalidAnswer, match="no test function"):
        keep_tests("print(1)\n", "", "shapes", "area")


def test_selections_widen_to_whole_lines_and_restated_context_is_dropped() -> None:
    text = "a = 1\nb = 2\nc = 3\n"
    assert whole_lines(text, 7, 8) == (6, 11)
    assert whole_lines(text, 6, 12) == (6, 11)  # a selection that ends after the line break
    assert without_context("def greet(name):\n    print(name)", {"def greet(name):"}, set()) == "    print(name)"


def test_agents_md_instructions_reach_the_action_prompt(tmp_path) -> None:
    from types import SimpleNamespace

    from ghostwright.server.actions.base import ActionContext
    from ghostwright.server.features.code_actions import _instructions
    from ghostwright.server.work_progress import WorkProgress

    (tmp_path / "AGENTS.md").write_text("Use tabs.\n")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "AGENTS.md").write_text("Type every parameter.\n")
    server = SimpleNamespace(workspace_root=tmp_path)
    module = Document((tmp_path / "pkg" / "m.py").as_uri(), "python", "def f(a):\n    pass\n", 1)
    instructions = _instructions(server, module)
    assert instructions.index("Use tabs.") < instructions.index("Type every parameter.")  # deeper file last
    ctx = ActionContext(server, module, 0, 0, {}, WorkProgress(server, "test"), instructions=instructions)
    system, user = ctx.messages("Implement f.")
    assert "Type every parameter." in system["content"] and user == {"role": "user", "content": "Implement f."}
    outside = Document("untitled:Untitled-1", "python", "x = 1\n", 1)
    assert _instructions(server, outside) == ""


def test_candidates_run_alone_first_then_in_batches() -> None:
    from ghostwright.server.actions.implement.action import rounds

    assert rounds(16, 4) == [(0, 1), (1, 4), (5, 4), (9, 4), (13, 3)]
    assert rounds(3, 4) == [(0, 1), (1, 2)]
    assert rounds(1, 4) == [(0, 1)]
    assert rounds(4, 1) == [(0, 1), (1, 1), (2, 1), (3, 1)]


def test_the_first_shape_leads_and_the_shapes_alternate() -> None:
    from ghostwright.server.actions.implement.candidates import CONTINUE, RESTATE, plan

    assert [plan(i)[0] for i in range(4)] == [RESTATE, CONTINUE, RESTATE, CONTINUE]
    assert [plan(i, first=CONTINUE)[0] for i in range(4)] == [CONTINUE, RESTATE, CONTINUE, RESTATE]
    assert [plan(i)[1] for i in range(3)] == [0.0, 0.0, 0.5] and plan(2, repeats=2)[1] == 0.7
