"""Which definition a name under the cursor means, read from the tree-sitter tree alone.

The identifier is a definition's own name, a declared variable or a parameter; otherwise it is
a reference, resolved to the innermost definition of that name whose scope holds it (a member
``obj.name`` only to methods and attributes). A huge file is walked for at most
``SEARCH_BUDGET_S``: a hover answers with what it found rather than late.
"""

from __future__ import annotations

import time

from tree_sitter import Node

from ghostwright.server.context.languages import LanguageSpec
from ghostwright.server.context.symbols import header_end, node_name

SEARCH_BUDGET_S = 0.3  # walking a huge file for a reference stops here, with what it found
# Variable declarations: node type -> the field that holds the declared name(s).
DECLARATIONS = {
    "assignment": "left", "variable_declarator": "name", "let_declaration": "pattern",
    "const_item": "name", "static_item": "name", "var_spec": "name", "const_spec": "name",
    "short_var_declaration": "left", "init_declarator": "declarator",
}
PARAMETER_LISTS = frozenset({"parameters", "formal_parameters", "parameter_list", "lambda_parameters"})
MEMBERS = frozenset({"attribute", "member_expression", "field_expression", "selector_expression"})
SCOPE_FREE = frozenset({"function", "method", "class", "type", "attribute"})  # found from anywhere


def identifier_at(root: Node, byte: int) -> Node | None:
    """The identifier that holds ``byte``, or ends right before it (cursor after a word)."""
    for probe in (byte, byte - 1):
        if probe < 0:
            continue
        node = root.named_descendant_for_byte_range(probe, probe + 1)
        if node is not None and "identifier" in node.type and node.start_byte <= probe < node.end_byte:
            return node
    return None


def defined_here(ident: Node, name: str, spec: LanguageSpec, source: bytes) -> tuple[str, Node] | None:
    """(kind, node) when ``ident`` is the name in a definition, declaration or parameter list."""
    below, node = ident, ident.parent
    for _ in range(3):
        if node is None:
            return None
        if is_definition(node, spec) and node_name(node) == name and ident.start_byte < header_end(node, source):
            return kind_of(node, spec), node
        field = DECLARATIONS.get(node.type)
        target = node.child_by_field_name(field) if field else None
        if target is not None and target.start_byte <= ident.start_byte and ident.end_byte <= target.end_byte:
            return ("attribute" if target.type in MEMBERS else "variable"), node
        if node.type in PARAMETER_LISTS:  # the parameter's own name, not its type or default value
            binds = below.id == ident.id or (below.named_children and below.named_children[0].id == ident.id)
            return ("parameter", below) if binds else None
        below, node = node, node.parent
    return None


def resolve_reference(root: Node, ident: Node, name: str, spec: LanguageSpec) -> tuple[str, Node] | None:
    """The definition of ``name`` whose scope holds ``ident``, innermost first; else any named so."""
    deadline = time.monotonic() + SEARCH_BUDGET_S
    parent = ident.parent
    member = parent is not None and parent.type in MEMBERS and parent.named_children[-1].id == ident.id
    # obj.name is a method or an attribute, never a local; a bare name is anything but an attribute
    wanted = {"function", "method", "attribute"} if member else {"function", "method", "class", "type",
                                                                "variable", "parameter"}
    best: tuple[int, int, str, Node] | None = None  # (scope depth, -distance, kind, node)
    stack = [(root, 0, True)]  # (node, scope depth, scope holds ident)
    while stack and time.monotonic() < deadline:
        node, depth, inside = stack.pop()
        for child in node.named_children:
            if child.id == ident.id:
                continue
            found = _declares(child, name, spec)
            if found is not None and found[0] in wanted and (inside or found[0] in SCOPE_FREE):
                rank = (depth if inside else -1, -abs(child.start_byte - ident.start_byte), *found)
                if best is None or rank[:2] > best[:2]:
                    best = rank
            scope = is_definition(child, spec)
            holds = inside and child.start_byte <= ident.start_byte < child.end_byte
            stack.append((child, depth + 1 if scope else depth, holds if scope else inside))
    return (best[2], best[3]) if best is not None else None


def _declares(node: Node, name: str, spec: LanguageSpec) -> tuple[str, Node] | None:
    if is_definition(node, spec):
        return (kind_of(node, spec), node) if node_name(node) == name else None
    field = DECLARATIONS.get(node.type)
    target = node.child_by_field_name(field) if field else None
    if target is not None and target.type in MEMBERS:  # self.items = ... declares "items"
        last = target.named_children[-1] if target.named_children else None
        return ("attribute", node) if last is not None and word(last) == name else None
    if target is not None and name in _names_in(target):
        return "variable", node
    if node.parent is not None and node.parent.type in PARAMETER_LISTS and name in _names_in(node):
        return "parameter", node
    return None


def _names_in(node: Node) -> set[str]:
    """Identifiers a declaration target or parameter binds (``a, b = ...``, ``n: int = 0``)."""
    if "identifier" in node.type:
        return {word(node)}
    if node.type in ("pattern_list", "tuple_pattern", "expression_list", "list_pattern"):
        return set().union(*(_names_in(child) for child in node.named_children))
    first = node.named_children[0] if node.named_children else None
    typed = "parameter" in node.type or "pattern" in node.type or "declarator" in node.type
    return {word(first)} if typed and first is not None and "identifier" in first.type else set()


def word(node: Node) -> str:
    return (node.text or b"").decode("utf-8", "replace")


def is_definition(node: Node, spec: LanguageSpec) -> bool:
    return node.type in spec.functions or node.type in spec.classes or node.type in spec.types


def kind_of(node: Node, spec: LanguageSpec) -> str:
    if node.type in spec.classes:
        return "class"
    if node.type in spec.types:
        return "type"
    parent = node.parent
    while parent is not None:
        if parent.type in spec.classes:
            return "method"
        if parent.type in spec.functions:
            return "function"
        parent = parent.parent
    return "method" if node.type == "method_declaration" else "function"
