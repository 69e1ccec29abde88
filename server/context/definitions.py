"""Definitions of a file as the workspace index stores them.

Only what a prompt can use: top-level functions, classes and types, and the methods of
top-level classes (impls, traits, Go receivers), each with its signature and doc as
written, dedented. Bodies are never stored: they cost tokens and rarely help.
"""

from __future__ import annotations

import textwrap
import time
from dataclasses import dataclass

from tree_sitter import Node, Tree

from ghostwright.server.context.languages import LanguageSpec
from ghostwright.server.context.symbols import (
    docstring_node,
    first_of,
    header_end,
    leading_comment,
    leaf_text,
    line_start,
    node_name,
    node_text,
    unwrap,
)

MAX_SIGNATURE_LINES = 8
MAX_DOC_LINES = 6


@dataclass(frozen=True)
class Definition:
    name: str
    kind: str  # "function" | "method" | "class" | "type"
    path: str  # workspace-relative, "/"-separated
    line: int  # 0-based line where the definition (decorators, export...) starts
    signature: str  # header as written, dedented, without the body
    doc: str = ""  # Python docstring, or the comment block right above; "" when none
    language: str = ""
    container: str | None = None  # class / impl / receiver type of a method


def extract_definitions(
    tree: Tree, source: bytes, spec: LanguageSpec, path: str, deadline: float | None = None
) -> list[Definition]:
    """Top-level functions, classes and types, and the methods of top-level classes."""
    found: list[Definition] = []

    def visit(children: list[Node], container: str | None, depth: int) -> None:
        for child in children:
            if deadline is not None and time.monotonic() > deadline:
                return
            node = unwrap(child, spec)
            if node.type in spec.namespaces and depth < 3:
                body = node.child_by_field_name("body")
                visit(body.named_children if body else [], container, depth + 1)
                continue
            kind, name, fn = _classify(node, spec, container)
            if kind is None or name is None or (container and kind != "method"):
                continue
            owner = container or _receiver(node)
            found.append(_definition(child, fn or node, source, spec, path, name, kind, owner))
            if kind == "class" and container is None:
                body = node.child_by_field_name("body")
                visit(body.named_children if body else [], name, depth + 1)

    visit(tree.root_node.named_children, None, 0)
    return found


def _classify(
    node: Node, spec: LanguageSpec, container: str | None
) -> tuple[str | None, str | None, Node | None]:
    if node.type in spec.functions:
        method = container is not None or node.type == "method_declaration"
        return ("method" if method else "function"), node_name(node), None
    if node.type in spec.classes:
        return "class", node_name(node), None
    if node.type in spec.types:
        return "type", node_name(node), None
    if node.type in spec.require_imports:  # const f = () => ...; local f = function() end
        fn = first_of(node, spec.functions, depth=4)
        if fn is not None:
            name = first_of(node, frozenset({"identifier"}), depth=4)
            return "function", leaf_text(name) if name else None, fn
    return None, None, None


def _definition(
    outer: Node, node: Node, source: bytes, spec: LanguageSpec, path: str, name: str, kind: str,
    container: str | None,
) -> Definition:
    signature = _dedented(source, outer.start_byte, header_end(node, source))
    doc = ""
    if spec.indent_scoped and (doc_node := docstring_node(node)) is not None:
        doc = _dedented(source, doc_node.start_byte, doc_node.end_byte)
    elif not spec.indent_scoped and (comment := leading_comment(outer)):
        doc = _dedented(source, comment[0].start_byte, comment[1].end_byte)
    return Definition(
        name=name, kind=kind, path=path, line=outer.start_point.row,
        signature=_cap(signature, MAX_SIGNATURE_LINES), doc=_cap(doc, MAX_DOC_LINES),
        language=spec.name, container=container,
    )


def _dedented(source: bytes, start: int, end: int) -> str:
    """Text of [start, end) taken from its line start, so that dedent sees the indentation."""
    text = source[line_start(source, start) : end].decode("utf-8", "replace")
    return textwrap.dedent(text).strip()


def _receiver(node: Node) -> str | None:
    """Go: the receiver type of a method declaration."""
    receiver = node.child_by_field_name("receiver")
    target = first_of(receiver, frozenset({"type_identifier"}), depth=4) if receiver else None
    return node_text(target) if target is not None else None


def _cap(text: str, max_lines: int) -> str:
    lines = text.splitlines()
    return "\n".join(lines[:max_lines]) if len(lines) > max_lines else text
