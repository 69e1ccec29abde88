"""A candidate's answer as edits: the new body under the user's docstring, the helpers it calls
and the imports it needs, and the module the sandbox loads to check it."""

from __future__ import annotations

import textwrap

from ghostwright.server.actions.base import ActionContext, InvalidAnswer
from ghostwright.server.actions.code_blocks import extract_code
from ghostwright.server.actions.edits import Replacement
from ghostwright.server.actions.implement.prompts import stub_text
from ghostwright.server.actions.python_code import (
    defined_names,
    function_body,
    helper_definitions,
    import_insert_offset,
    indent_body,
    new_imports,
    parameter_names,
    rename_lone_function,
)
from ghostwright.server.actions.targets import FunctionTarget, module_imports, top_level_definitions


def build(ctx: ActionContext, target: FunctionTarget, answer: str, prefill: str) -> list[Replacement]:
    """The answer as replacements: the new body after the docstring, and imports it needs."""
    code = extract_code(answer, prefill)
    if not code.strip():
        raise InvalidAnswer("the answer has no code")
    try:
        body = function_body(code, target.name)
    except InvalidAnswer:
        parameters = parameter_names(stub_text(ctx.text, target))
        renamed = None if parameters is None else rename_lone_function(code, target.name, len(parameters),
                                                                       defined_names(ctx.text))
        if renamed is None:
            raise
        code = renamed
        body = function_body(code, target.name)
    start, end = target.stub_span()
    replacements = [Replacement(start, end, "\n" + indent_body(body, target.indent))]
    helpers = helper_definitions(code, body, ctx.text)
    if helpers and not target.in_class:  # functions the body calls that the model wrote beside it
        line_start = ctx.text.rfind("\n", 0, target.outer_start) + 1
        replacements.insert(0, Replacement(line_start, line_start,
                                           "".join(textwrap.indent(h, target.def_indent) + "\n\n\n" for h in helpers)))
    imports = new_imports(code, ctx.text)
    if imports:
        at = import_insert_offset(ctx.text)
        if at > target.outer_start:
            at = 0
        lead = "\n" if at and not ctx.text[:at].endswith("\n") else ""
        replacements.insert(0, Replacement(at, at, lead + "\n".join(imports) + "\n" + ("\n" if at == 0 else "")))
    return replacements


def check_chunks(ctx: ActionContext, target: FunctionTarget, replacements: list[Replacement]) -> list[tuple[str, bool]]:
    """What the example run loads: imports, the neighbours, then the candidate (whose failure counts)."""
    body = replacements[-1]
    line_start = ctx.text.rfind("\n", 0, target.outer_start) + 1
    function = textwrap.dedent(ctx.text[line_start : body.start] + body.new_text) + "\n"
    added = [textwrap.dedent(r.new_text) for r in replacements[:-1]]  # new imports and helpers
    chunks: list[tuple[str, bool]] = [(line, False) for line in [*module_imports(ctx.doc), *added]]
    chunks += [(definition, False) for definition in top_level_definitions(ctx.doc, target)]
    chunks.append((function, True))
    return chunks
