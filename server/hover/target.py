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
from dataclasses import dataclass, replace
from pathlib import Path

from tree_sitter import Node

from ghostwright.server.context.definitions import Definition
from ghostwright.server.context.document import Document
from ghostwright.server.context.languages import LanguageSpec
from ghostwright.server.context.secrets import is_secret_file
from ghostwright.server.context.symbols import docstring_node, header_end, leading_comment, line_start
from ghostwright.server.hover.resolve import defined_here, identifier_at, resolve_reference, word

MAX_SIGNATURE_LINES = 8
MAX_BODY_LINES = 30
MAX_BODY_CHARS = 1500
MAX_FILE_BYTES = 1_000_000  # another file's definition is read from disk only when it is this small
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
    ident = identifier_at(tree.root_node, doc.lines.byte_offset(offset))
    if ident is None:
        return None
    name = word(ident)
    span = (doc.lines.offset_of_byte(ident.start_byte), doc.lines.offset_of_byte(ident.end_byte))
    found = defined_here(ident, name, spec, doc.source) or resolve_reference(tree.root_node, ident, name, spec)
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


def _target(doc: Document, spec: LanguageSpec, kind: str, node: Node, name: str,
            span: tuple[int, int]) -> HoverTarget:
    source = doc.source
    if kind == "parameter":  # the parameter as written; the model reads the header that takes it
        owner = node.parent.parent if node.parent is not None and node.parent.parent is not None else node
        header = _text(source, line_start(source, owner.start_byte), header_end(owner, source))
        return HoverTarget(name, kind, word(node), "", _cap_lines(header, MAX_SIGNATURE_LINES), spec.name,
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
