"""Reading definitions out of a syntax tree: names, signatures and doc comments.

A signature is the definition's header as written (decorators, ``export``, ``template``
and modifiers included) up to where its body starts, plus the opening brace. The doc is
the Python docstring, or for other languages the comment block right above. The
workspace index and the enclosing-scope slice both read definitions through here.
"""

from __future__ import annotations

from tree_sitter import Node

from ghostwright.server.context.languages import LanguageSpec


def unwrap(node: Node, spec: LanguageSpec) -> Node:
    """The definition inside decorator, ``export`` and ``template`` wrappers."""
    while node.type in spec.wrappers:
        inner = node.child_by_field_name("definition") or node.child_by_field_name("declaration")
        if inner is None:
            named = [c for c in node.named_children if c.type not in _NOT_INNER]
            inner = named[-1] if named else None
        if inner is None:
            return node
        node = inner
    return node


_NOT_INNER = {"decorator", "comment", "template_parameter_list"}


def node_name(node: Node) -> str | None:
    """The defined name: ``name`` field, C declarator chain, impl type, type_spec..."""
    if node.type == "type_declaration" and node.named_child_count:
        node = node.named_children[0]
    name = node.child_by_field_name("name")
    if name is None and node.type == "impl_item":
        target = node.child_by_field_name("type")
        return node_text(target).split("<")[0].strip() if target else None
    declarator = node
    while name is None and (declarator := declarator.child_by_field_name("declarator")):
        if declarator.child_by_field_name("declarator") is None:
            name = declarator
    return leaf_text(name) if name is not None else None


def header_end(node: Node, source: bytes) -> int:
    """Byte where ``node``'s signature ends: before its body (+ "{"), else at its first line end.

    Measured from the token before the body, so a comment that opens a Python body
    is not taken for part of the signature.
    """
    body = node.child_by_field_name("body")
    if body is not None and body.start_byte > node.start_byte:
        if source[body.start_byte : body.start_byte + 1] == b"{":
            return body.start_byte + 1
        previous = body.prev_sibling
        while previous is not None and previous.is_extra:  # comments between header and body
            previous = previous.prev_sibling
        return previous.end_byte if previous is not None else body.start_byte
    line_end = source.find(b"\n", node.start_byte)
    return node.end_byte if line_end == -1 else min(line_end, node.end_byte)


def docstring_node(node: Node) -> Node | None:
    """The string statement that opens a Python body, if any."""
    body = node.child_by_field_name("body")
    first = body.named_children[0] if body is not None and body.named_child_count else None
    if first is not None and first.type == "expression_statement" and first.named_child_count:
        return first if first.named_children[0].type == "string" else None
    return None


def leading_comment(node: Node) -> tuple[Node, Node] | None:
    """First and last node of the comment block directly above ``node`` (no blank line)."""
    first = last = None
    row = node.start_point.row
    prev = node.prev_named_sibling
    while prev is not None and "comment" in prev.type and prev.end_point.row >= row - 1:
        first, last = prev, last or prev
        row = prev.start_point.row
        prev = prev.prev_named_sibling
    return (first, last) if first is not None and last is not None else None


def header_span(outer: Node, node: Node, source: bytes, spec: LanguageSpec) -> tuple[int, int]:
    """Bytes [start, end) of doc + signature, the start moved back to its line start."""
    start, end = outer.start_byte, header_end(node, source)
    if spec.indent_scoped:
        doc = docstring_node(node)
        end = doc.end_byte if doc is not None else end
    elif comment := leading_comment(outer):
        start = comment[0].start_byte
    return line_start(source, start), end


def line_start(source: bytes, start: int) -> int:
    """Start of ``start``'s line when only indentation precedes it there, else ``start``."""
    begin = source.rfind(b"\n", 0, start) + 1
    return begin if not source[begin:start].strip() else start


def first_of(node: Node, types: frozenset[str], depth: int) -> Node | None:
    for child in node.named_children:
        if child.type in types:
            return child
        if depth > 0 and (found := first_of(child, types, depth - 1)) is not None:
            return found
    return None


def leaf_text(node: Node) -> str:
    """``M.sub`` -> ``sub``, ``ns::Foo::set`` -> ``set``: the last named leaf."""
    while node.named_child_count:
        node = node.named_children[-1]
    return node_text(node)


def node_text(node: Node) -> str:
    return _decode(node.text or b"")


def _decode(data: bytes) -> str:
    return data.decode("utf-8", "replace")




