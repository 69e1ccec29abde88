"""Reading the model's Python: the function it wrote, its body, its imports; re-indenting them.

The model restates the whole function (often with a changed docstring, sometimes with helper
code around it); the edit only wants the body, indented as the document indents it, so the
user's signature and docstring stay byte-for-byte what they wrote.
"""

from __future__ import annotations

import ast
import re
import textwrap

from ghostwright.server.actions.base import InvalidAnswer


def parse_prefix(code: str) -> ast.Module:
    """Parse ``code``; when the tail is cut off (token limit), drop lines from the end until it parses."""
    lines = code.rstrip().split("\n")
    for cut in range(len(lines), 0, -1):
        try:
            return ast.parse("\n".join(lines[:cut]))
        except SyntaxError:
            continue
        except ValueError as exc:
            raise InvalidAnswer(str(exc)) from exc
    raise InvalidAnswer("the answer holds no Python that parses")


def find_function(tree: ast.Module, name: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            return node
    return None


def function_body(code: str, name: str) -> str:
    """The body (docstring dropped) of ``def name`` in ``code``, dedented; or ``code`` as a bare body."""
    code = textwrap.dedent(code)
    tree = parse_prefix(code)
    lines = code.split("\n")
    function = find_function(tree, name)
    if function is None:
        if any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) for n in tree.body):
            raise InvalidAnswer(f"the answer defines other things but not {name}")
        body = textwrap.dedent(code).strip("\n")
        return _check_body(body)
    statements = function.body
    if statements and _is_docstring(statements[0]):
        statements = statements[1:]
    if not statements:
        raise InvalidAnswer(f"the answer's {name} has an empty body")
    first, last = statements[0], statements[-1]
    end = last.end_lineno or last.lineno
    picked = lines[first.lineno - 1 : end]
    # "def f(): return 1": the first statement shares its line with the signature
    picked[0] = " " * first.col_offset + picked[0][first.col_offset :]
    return _check_body(textwrap.dedent("\n".join(picked)).strip("\n"))


def rename_lone_function(code: str, name: str, arity: int, taken: set[str]) -> str | None:
    """``code`` with its one new top-level function renamed to ``name``, or None.

    The model sometimes restates the function under another name (``def is_palindrome_string``
    for ``is_palindrome``); when the answer defines exactly one function the document does not
    already have, taking the same number of parameters, that is the function it meant. Every
    use of the old name (recursion included) is renamed with it."""
    try:
        tree = parse_prefix(textwrap.dedent(code))
    except InvalidAnswer:
        return None
    if find_function(tree, name) is not None:
        return None
    new = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name not in taken]
    if len(new) != 1 or any(isinstance(n, ast.ClassDef) for n in tree.body):
        return None
    if len(_positional(new[0])) != arity:
        return None
    return re.sub(rf"\b{re.escape(new[0].name)}\b", name, code)


def defined_names(text: str) -> set[str]:
    """Names of the top-level functions and classes in ``text`` (empty when it does not parse)."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return set()
    return {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}


def parameter_names(stub: str) -> list[str] | None:
    """The positional parameters of the function in ``stub`` (a def line, maybe a docstring)."""
    try:
        tree = ast.parse(textwrap.dedent(stub).rstrip() + "\n    pass\n")
    except SyntaxError:
        return None
    function = next((n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))), None)
    return None if function is None else _positional(function)


def _positional(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    return [a.arg for a in (*function.args.posonlyargs, *function.args.args)]


def resume_after_docstring(code: str, name: str) -> str | None:
    """``code`` cut after the docstring of ``def name`` and opened onto its body's first line, when
    the model restated the function but stopped before writing a body (it takes the restated
    stub for finished code); None when the answer is not that shape."""
    code = textwrap.dedent(code)
    try:
        function = find_function(parse_prefix(code), name)
    except InvalidAnswer:
        return None
    if function is None or len(function.body) != 1 or not _is_docstring(function.body[0]):
        return None
    docstring = function.body[0]
    if docstring.lineno == function.lineno:  # def f(): "doc" on one line: nowhere to open a body
        return None
    kept = code.split("\n")[: docstring.end_lineno]
    return "\n".join(kept) + "\n" + " " * docstring.col_offset


def _check_body(body: str) -> str:
    if not body.strip():
        raise InvalidAnswer("the answer has no code")
    if body.strip() in ("pass", "...", "return", "return None"):  # a bare return does nothing either
        raise InvalidAnswer("the answer is another placeholder")
    try:
        ast.parse("def _():\n" + textwrap.indent(body, "    "))
    except SyntaxError as exc:
        raise InvalidAnswer(f"the body does not parse: {exc.msg}") from exc
    return body


def new_imports(code: str, existing: str) -> list[str]:
    """Top-level imports the answer uses that ``existing`` (the document) lacks.

    Only imports binding a name the answer reads: a model restating a function often opens with
    ``from typing import *`` boilerplate, and a star import never goes into the user's file."""
    try:
        tree = parse_prefix(code)
        used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    except InvalidAnswer:
        return []
    have = {line.strip() for line in existing.split("\n")}
    out = []
    for node in tree.body:
        if not isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        bound = {(a.asname or a.name).split(".")[0] for a in node.names}
        if "*" in bound or not bound & used:
            continue
        line = ast.unparse(node)
        if line not in have and line not in out:
            out.append(line)
    return out


def helper_definitions(code: str, body: str, existing: str) -> list[str]:
    """Top-level functions in ``code`` that ``body`` calls and ``existing`` does not define."""
    try:
        tree = parse_prefix(textwrap.dedent(code))
        wrapped = ast.parse("def _():\n" + textwrap.indent(body, "    "))
        used = {n.id for n in ast.walk(wrapped) if isinstance(n, ast.Name)}
        defined = {n.name for n in ast.parse(existing).body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    except (InvalidAnswer, SyntaxError):
        return []
    lines = textwrap.dedent(code).split("\n")
    return ["\n".join(lines[n.lineno - 1 : n.end_lineno]) for n in tree.body
            if isinstance(n, ast.FunctionDef) and n.name in used and n.name not in defined and not n.decorator_list]


def indent_body(body: str, indent: str) -> str:
    return "\n".join(indent + line if line.strip() else "" for line in body.split("\n"))


def _is_docstring(node: ast.stmt) -> bool:
    return (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str))


def import_insert_offset(text: str) -> int:
    """Where new imports go: after the module's last top-level import (or its docstring), else at the top."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return 0
    line = 0
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)) or (line == 0 and _is_docstring(node)
                                                               and node is tree.body[0]):
            line = node.end_lineno or node.lineno
        elif line:
            break
    if line == 0:
        return 0
    offset = 0
    for _ in range(line):
        found = text.find("\n", offset)
        if found == -1:
            return len(text)
        offset = found + 1
    return offset
