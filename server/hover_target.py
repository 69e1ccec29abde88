"""What a hover is about: the definition behind the identifier under the cursor.

A function of (document, offset, workspace index): tree-sitter finds the identifier;
if it names a definition (function, method, class, type) or declares a variable or a
parameter, that is the target; otherwise it is a reference, resolved to the innermost
definition of that name in the document whose scope holds the cursor, then to the
workspace index, whose entry says which file to read the whole definition from (its
signature and doc alone when that file cannot be read).

The target carries the signature shown to the user and the text the model explains;
its :attr:`HoverTarget.key` hashes that text, so an edit elsewhere in the file keeps the
cached explanation while an edit to the definition invalidates it.
"""

from __future__ import annotations

import hashlib
import re
import textwrap
import time
from dataclasses import dataclass, replace
from pathlib import Path

from tree_sitter import Node

from ghostwright.server.context.definitions import Definition
from ghostwright.server.context.document import Document
from ghostwright.server.context.languages import LanguageSpec
from ghostwright.server.context.secrets import is_secret_file
from ghostwright.server.context.symbols import docstring_node, header_end, leading_comment, line_start, node_name

MAX_SIGNATURE_LINES = 8
MAX_BODY_LINES = 30
MAX_BODY_CHARS = 1500
MAX_FILE_BYTES = 1_000_000  # another file's definition is read from disk only when it is this small
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


@dataclass(frozen=True)
class HoverTarget:
    name: str
    kind: str  # function | method | class | type | variable | attribute | parameter
    signature: str  # as written, dedented: what the hover shows first
    doc: str  # docstring or leading comment, "" when none
    source: str  # what the model reads: the definition, capped
    language: str
    path: str | None  # file of the definition: None for the hovered document itself
    line: int  # 0-based line of the definition in that file
    span: tuple[int, int]  # str offsets of the hovered identifier in the document

    @property
    def key(self) -> str:
        """Content hash of the definition (not of where it is or which file holds it)."""
        data = "\0".join((self.language, self.kind, self.name, self.source))
        return hashlib.sha256(data.encode("utf-8", "surrogatepass")).hexdigest()


def find_target(doc: Document, offset: int, index: object | None = None) -> HoverTarget | None:
    """The hover target at str ``offset`` of ``doc``; None when it is not on a known name."""
    tree, spec = doc.tree, doc.spec
    if tree is None or spec is None:
        return None
    ident = _identifier_at(tree.root_node, doc.lines.byte_offset(offset))
    if ident is None:
        return None
    name = _word(ident)
    span = (doc.lines.offset_of_byte(ident.start_byte), doc.lines.offset_of_byte(ident.end_byte))
    found = _defined_here(ident, name, spec, doc.source) or _resolve(tree.root_node, ident, name, spec)
    if found is not None:
        kind, node = found
        return _target(doc, spec, kind, node, name, span)
    lookup = getattr(index, "lookup", None)
    for definition in lookup([name]) if lookup else ():
        root = getattr(index, "root", None)
        whole = _from_file(Path(root), definition) if root is not None else None
        if whole is not None:  # the body too: the same content hash as hovering it in its own file
            return replace(whole, path=definition.path, line=definition.line, span=span)
        body = definition.signature + ("\n" + definition.doc if definition.doc else "")
        return HoverTarget(name, definition.kind, definition.signature, definition.doc, body,
                           definition.language, definition.path, definition.line, span)
    return None


def _from_file(root: Path, definition: Definition) -> HoverTarget | None:
    """The target as hovering its name in its own file would give it; None if that file cannot be read."""
    file = root / definition.path
    try:
        if is_secret_file(definition.path) or file.stat().st_size > MAX_FILE_BYTES:
            return None
        text = file.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    doc = Document(file.as_uri(), "", text)
    if doc.tree is None or definition.line >= doc.lines.line_count:
        return None
    start = doc.lines.line_start(definition.line)  # decorators come first: the name is a few lines on
    found = re.compile(rf"\b{re.escape(definition.name)}\b").search(text, start, start + 2000)
    target = find_target(doc, found.start()) if found else None
    kinds = ("function", "method", "class", "type")
    return target if target is not None and target.kind in kinds and target.name == definition.name else None


def _identifier_at(root: Node, byte: int) -> Node | None:
    """The identifier that holds ``byte``, or ends right before it (cursor after a word)."""
    for probe in (byte, byte - 1):
        if probe < 0:
            continue
        node = root.named_descendant_for_byte_range(probe, probe + 1)
        if node is not None and "identifier" in node.type and node.start_byte <= probe < node.end_byte:
            return node
    return None


def _defined_here(ident: Node, name: str, spec: LanguageSpec, source: bytes) -> tuple[str, Node] | None:
    """(kind, node) when ``ident`` is the name in a definition, declaration or parameter list."""
    below, node = ident, ident.parent
    for _ in range(3):
        if node is None:
            return None
        if _is_definition(node, spec) and node_name(node) == name and ident.start_byte < header_end(node, source):
            return _kind(node, spec), node
        field = DECLARATIONS.get(node.type)
        target = node.child_by_field_name(field) if field else None
        if target is not None and target.start_byte <= ident.start_byte and ident.end_byte <= target.end_byte:
            return ("attribute" if target.type in MEMBERS else "variable"), node
        if node.type in PARAMETER_LISTS:  # the parameter's own name, not its type or default value
            binds = below.id == ident.id or (below.named_children and below.named_children[0].id == ident.id)
            return ("parameter", below) if binds else None
        below, node = node, node.parent
    return None


def _resolve(root: Node, ident: Node, name: str, spec: LanguageSpec) -> tuple[str, Node] | None:
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
            scope = _is_definition(child, spec)
            holds = inside and child.start_byte <= ident.start_byte < child.end_byte
            stack.append((child, depth + 1 if scope else depth, holds if scope else inside))
    return (best[2], best[3]) if best is not None else None


def _declares(node: Node, name: str, spec: LanguageSpec) -> tuple[str, Node] | None:
    if _is_definition(node, spec):
        return (_kind(node, spec), node) if node_name(node) == name else None
    field = DECLARATIONS.get(node.type)
    target = node.child_by_field_name(field) if field else None
    if target is not None and target.type in MEMBERS:  # self.items = ... declares "items"
        last = target.named_children[-1] if target.named_children else None
        return ("attribute", node) if last is not None and _word(last) == name else None
    if target is not None and name in _names_in(target):
        return "variable", node
    if node.parent is not None and node.parent.type in PARAMETER_LISTS and name in _names_in(node):
        return "parameter", node
    return None


def _names_in(node: Node) -> set[str]:
    """Identifiers a declaration target or parameter binds (``a, b = ...``, ``n: int = 0``)."""
    if "identifier" in node.type:
        return {_word(node)}
    if node.type in ("pattern_list", "tuple_pattern", "expression_list", "list_pattern"):
        return set().union(*(_names_in(child) for child in node.named_children))
    first = node.named_children[0] if node.named_children else None
    typed = "parameter" in node.type or "pattern" in node.type or "declarator" in node.type
    return {_word(first)} if typed and first is not None and "identifier" in first.type else set()


def _word(node: Node) -> str:
    return (node.text or b"").decode("utf-8", "replace")


def _is_definition(node: Node, spec: LanguageSpec) -> bool:
    return node.type in spec.functions or node.type in spec.classes or node.type in spec.types


def _kind(node: Node, spec: LanguageSpec) -> str:
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


def _target(doc: Document, spec: LanguageSpec, kind: str, node: Node, name: str,
            span: tuple[int, int]) -> HoverTarget:
    source = doc.source
    if kind == "parameter":  # the parameter as written; the model reads the header that takes it
        owner = node.parent.parent if node.parent is not None and node.parent.parent is not None else node
        header = _text(source, line_start(source, owner.start_byte), header_end(owner, source))
        return HoverTarget(name, kind, _word(node), "", _cap_lines(header, MAX_SIGNATURE_LINES), spec.name,
                           None, node.start_point.row, span)
    outer = node
    while outer.parent is not None and outer.parent.type in spec.wrappers:  # decorators, export
        outer = outer.parent
    if kind in ("variable", "attribute"):  # whole lines: "const X = 1;" rather than the declarator "X = 1"
        begin = source.rfind(b"\n", 0, outer.start_byte) + 1
        text = _text(source, begin, outer.end_byte)
        return HoverTarget(name, kind, _cap_lines(text, 3), "", _cap_body(text), spec.name, None,
                           outer.start_point.row, span)
    signature = _text(source, line_start(source, outer.start_byte), header_end(node, source))
    doc_text = ""
    if spec.indent_scoped and (doc_node := docstring_node(node)) is not None:
        doc_text = _text(source, line_start(source, doc_node.start_byte), doc_node.end_byte)
    elif not spec.indent_scoped and (comment := leading_comment(outer)):
        doc_text = _text(source, comment[0].start_byte, comment[1].end_byte)
    body = _text(source, line_start(source, outer.start_byte), node.end_byte)
    return HoverTarget(name, kind, _cap_lines(signature, MAX_SIGNATURE_LINES), doc_text, _cap_body(body),
                       spec.name, None, outer.start_point.row, span)


def _text(source: bytes, start: int, end: int) -> str:
    return textwrap.dedent(source[start:end].decode("utf-8", "replace")).strip()


def _cap_lines(text: str, limit: int) -> str:
    lines = text.splitlines()
    return "\n".join([*lines[:limit], "..."]) if len(lines) > limit else text


def _cap_body(text: str) -> str:
    text = _cap_lines(text, MAX_BODY_LINES)
    return text[:MAX_BODY_CHARS] + "\n..." if len(text) > MAX_BODY_CHARS else text
