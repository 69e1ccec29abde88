"""What an action works on, read from the syntax tree: the function at the cursor and its parts.

Offsets here are str offsets into the document snapshot (what :class:`Replacement` takes); the
tree's byte offsets are converted once, through the document's line index.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from tree_sitter import Node

from ghostwright.server.context.document import Document
from ghostwright.server.context.symbols import docstring_node, node_name, node_text

TODO = re.compile(r"#\s*(TODO|FIXME|XXX|implement)\b", re.IGNORECASE)


@dataclass(frozen=True)
class FunctionTarget:
    name: str
    start: int  # the def line's start (decorators excluded)
    end: int  # end of the function's text
    outer_start: int  # start of its decorators, if any
    header_end: int  # just after the ":" that opens the body
    body_start: int  # first statement of the body (the docstring, if one)
    body_end: int
    indent: str  # the body's indentation
    def_indent: str  # the def line's indentation
    docstring: str | None  # cleaned text of the docstring
    doc_end: int | None  # just after the docstring statement
    comment: str | None  # a comment right above the def or inside the stub body
    is_stub: bool  # body is empty, pass, ..., or a TODO (after the docstring)
    in_class: bool
    source: str  # the whole function as written (decorators included)

    def stub_span(self) -> tuple[int, int]:
        """What "implement" replaces: everything after the docstring (or after the header)."""
        return (self.doc_end if self.doc_end is not None else self.header_end), self.end


def function_at(doc: Document, offset: int, end: int | None = None) -> FunctionTarget | None:
    """The innermost Python function whose text contains [offset, end], else None."""
    if doc.language != "python" or doc.tree is None:
        return None
    end = offset if end is None else end
    start_byte, end_byte = doc.lines.byte_offset(offset), doc.lines.byte_offset(end)
    node = doc.tree.root_node.named_descendant_for_byte_range(start_byte, end_byte)
    while node is not None and node.type != "function_definition":
        node = node.parent
    return _target(doc, node) if node is not None else None


def functions_in(doc: Document) -> list[FunctionTarget]:
    """Every function in the document (outermost first), for actions that scan the file."""
    if doc.language != "python" or doc.tree is None:
        return []
    found: list[FunctionTarget] = []
    stack = [doc.tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "function_definition" and (target := _target(doc, node)) is not None:
            found.append(target)
        stack.extend(reversed(node.named_children))
    return found


def _target(doc: Document, node: Node) -> FunctionTarget | None:
    name = node_name(node)
    body = node.child_by_field_name("body")
    if name is None or body is None:
        return None
    to_str = doc.lines.offset_of_byte
    outer = node.parent if node.parent is not None and node.parent.type == "decorated_definition" else node
    text = doc.text
    start = to_str(node.start_byte)
    def_line_start = text.rfind("\n", 0, start) + 1
    colon = node.child_by_field_name("return_type") or node.child_by_field_name("parameters")
    header_end = text.find(":", to_str(colon.end_byte)) + 1 if colon is not None else to_str(body.start_byte)
    doc_node = docstring_node(node)
    docstring = doc_end = None
    if doc_node is not None:
        doc_end = to_str(doc_node.end_byte)
        try:
            value = ast.literal_eval(node_text(doc_node).strip())
            docstring = value if isinstance(value, str) else None
        except (SyntaxError, ValueError):
            docstring = None
    body_start = to_str(body.start_byte)
    line_start = text.rfind("\n", 0, body_start) + 1
    indent = text[line_start:body_start] if not text[line_start:body_start].strip() else ""
    def_indent = text[def_line_start:start] if not text[def_line_start:start].strip() else ""
    if not indent or len(indent) <= len(def_indent):
        indent = def_indent + "    "
    rest = [c for c in body.named_children if doc_node is None or c.id != doc_node.id]
    comments = [c for c in rest if c.type == "comment"]
    statements = [c for c in rest if c.type != "comment"]
    is_stub = not statements or (len(statements) == 1 and _is_placeholder(statements[0]))
    inner = "\n".join(node_text(c).lstrip("#").strip() for c in comments)
    comment = "\n".join(part for part in (_comment_above(doc, outer), inner) if part)
    if statements and comments and not any(TODO.search(node_text(c)) for c in comments) and not is_stub:
        comment = None
    end = max(to_str(node.end_byte), doc_end or 0)
    return FunctionTarget(
        name=name, start=start, end=end, outer_start=to_str(outer.start_byte), header_end=header_end,
        body_start=body_start, body_end=to_str(body.end_byte), indent=indent, def_indent=def_indent,
        docstring=docstring, doc_end=doc_end, comment=comment or None, is_stub=is_stub,
        in_class=_in_class(node), source=text[to_str(outer.start_byte) : end])


def _is_placeholder(node: Node) -> bool:
    text = node_text(node).strip()
    if text in ("pass", "...", "raise NotImplementedError", "raise NotImplementedError()"):
        return True
    return text.startswith("raise NotImplementedError(")


def _comment_above(doc: Document, outer: Node) -> str | None:
    """The ``#`` lines right above the definition (read from the text: tree-sitter may hang a
    comment that opens a class body on the class rather than beside the method)."""
    lines: list[str] = []
    row = outer.start_point.row - 1
    while row >= 0 and (line := doc.lines.line_text(row).strip()).startswith("#"):
        lines.insert(0, line.lstrip("#").strip())
        row -= 1
    return "\n".join(lines) or None


def _in_class(node: Node) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.type == "class_definition":
            return True
        if parent.type == "function_definition":
            return False
        parent = parent.parent
    return False


def module_imports(doc: Document) -> list[str]:
    """Top-level import statements, as written (what a candidate's check needs to load)."""
    if doc.tree is None:
        return []
    kinds = doc.spec.imports if doc.spec else frozenset()
    return [node_text(c) for c in doc.tree.root_node.named_children if c.type in kinds]


def top_level_definitions(doc: Document, exclude: FunctionTarget | None = None) -> list[str]:
    """Top-level functions and classes other than ``exclude``: neighbours a candidate may call."""
    if doc.tree is None:
        return []
    out = []
    for child in doc.tree.root_node.named_children:
        inner = child.child_by_field_name("definition") if child.type == "decorated_definition" else child
        if inner is None or inner.type not in ("function_definition", "class_definition"):
            continue
        if exclude is not None and doc.lines.offset_of_byte(inner.start_byte) == exclude.start:
            continue
        out.append(node_text(child))
    return out
