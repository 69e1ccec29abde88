"""Add type annotations: the model proposes a signature; only the missing annotations are inserted.

Why insert rather than replace: the user's parameter names, defaults, spacing and existing
annotations must survive untouched. The model's signature is only read for the types it gives
the parameters that lack one (and the return type, if missing); each becomes an insertion.
"""

from __future__ import annotations

import ast
import textwrap

from tree_sitter import Node

from ghostwright.server.actions.base import ActionContext, ActionError, ActionResult, InvalidAnswer, Offer
from ghostwright.server.actions.edits import Replacement
from ghostwright.server.actions.targets import FunctionTarget, function_at
from ghostwright.server.chat_runner import ChatResult
from ghostwright.server.context.document import Document
from ghostwright.server.context.symbols import node_text

ID = "annotations"
KIND = "refactor.rewrite"
MAX_TOKENS = 80
PLAIN = ("identifier", "default_parameter")  # tree-sitter parameter nodes without an annotation
SKIP = ("self", "cls")


def _function_node(doc: Document, target: FunctionTarget) -> Node | None:
    node = doc.tree.root_node.named_descendant_for_byte_range(
        doc.lines.byte_offset(target.start), doc.lines.byte_offset(target.start))
    while node is not None and node.type != "function_definition":
        node = node.parent
    return node


def missing(doc: Document, target: FunctionTarget) -> tuple[list[tuple[str, int]], int | None]:
    """([(parameter name, str offset just after its name)], offset for ``-> T`` or None)."""
    node = _function_node(doc, target)
    if node is None:
        return [], None
    found = []
    params = node.child_by_field_name("parameters")
    for param in params.named_children if params is not None else []:
        if param.type not in PLAIN:
            continue
        name = param if param.type == "identifier" else param.child_by_field_name("name")
        if name is None or node_text(name) in SKIP:
            continue
        found.append((node_text(name), doc.lines.offset_of_byte(name.end_byte)))
    returns = None
    if node.child_by_field_name("return_type") is None and params is not None:
        returns = doc.lines.offset_of_byte(params.end_byte)
    return found, returns


def offers(doc: Document, start: int, end: int) -> list[Offer]:
    target = function_at(doc, start, end)
    if target is None:
        return []
    params, returns = missing(doc, target)
    if not params and returns is None:
        return []
    data = {"function": target.name, "offset": target.start}
    return [Offer(ID, f"Add type annotations to {target.name}", KIND, data)]


def _annotations(signature: str, name: str) -> tuple[dict[str, str], str | None]:
    try:
        tree = ast.parse(signature + "\n    pass\n")
    except SyntaxError as exc:
        raise InvalidAnswer(f"the signature does not parse: {exc.msg}") from exc
    function = tree.body[0] if tree.body else None
    if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)) or function.name != name:
        raise InvalidAnswer(f"the answer is not a signature of {name}")
    args = function.args
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    types = {a.arg: ast.unparse(a.annotation) for a in every if a.annotation is not None}
    returns = ast.unparse(function.returns) if function.returns is not None else None
    return types, returns


async def run(ctx: ActionContext) -> ActionResult:
    offset = ctx.data.get("offset")
    target = function_at(ctx.doc, offset) if isinstance(offset, int) and 0 <= offset <= len(ctx.text) else None
    if target is None or target.name != ctx.data.get("function"):
        raise ActionError(f"the function {ctx.data.get('function')!r} is no longer where it was")
    params, returns_at = missing(ctx.doc, target)
    if not params and returns_at is None:
        raise ActionError(f"{target.name} is already fully annotated")
    line_start = ctx.text.rfind("\n", 0, target.outer_start) + 1
    function = textwrap.dedent(ctx.text[line_start : target.end])
    keyword = "async def" if ctx.text[target.start : target.start + 5] == "async" else "def"
    messages = ctx.messages("Add Python type hints to every parameter and the return value of this function. "
                            f"Answer with the annotated signature.\n```python\n{function}\n```")
    prefill = f"```python\n{keyword} {target.name}("

    def build(result: ChatResult) -> list[Replacement]:
        signature = f"{keyword} {target.name}(" + result.text.split("\n```")[0]
        signature = signature.split(":\n")[0].rstrip().rstrip(":") + ":"
        types, returns = _annotations(signature, target.name)
        replacements = [Replacement(at, at, f": {types[name]}") for name, at in params if name in types]
        if returns_at is not None and returns:
            replacements.append(Replacement(returns_at, returns_at, f" -> {returns}"))
        if not replacements:
            raise InvalidAnswer("the answer adds no annotation")
        return replacements

    replacements, _, _ = await ctx.until_valid(messages, build, max_tokens=MAX_TOKENS, label="annotations",
                                                stop=["\n```", ":\n"], prefill=prefill, copies_input=True)
    return ActionResult(replacements, f"Added {len(replacements)} type annotation"
                                      f"{'s' if len(replacements) != 1 else ''} to {target.name}")
