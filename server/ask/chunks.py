"""Cut a source file into retrievable chunks along its tree-sitter definitions.

Ask ranks chunks, not files: a chunk is one top-level definition (its leading comments
and decorators included), a run of module-level code between definitions, or, for a
class too long to show whole, its header and then each method. Anything still longer
than ``max_lines`` is split into windows. Chunks keep their 0-based line span, so a
citation built from one always points at a real line.

Pure: (source, language spec, path) → chunks; files in languages without a grammar are
cut into plain line windows.
"""

from __future__ import annotations

from dataclasses import dataclass

from tree_sitter import Node, Tree

from ghostwright.server.context.languages import LanguageSpec
from ghostwright.server.context.symbols import leading_comment, node_name, unwrap

DEFAULT_MAX_LINES = 40


@dataclass(frozen=True)
class SourceChunk:
    path: str  # workspace-relative, "/"-separated
    start_line: int  # 0-based, first line of the chunk
    end_line: int  # 0-based, inclusive
    text: str
    name: str = ""  # what the chunk defines ("Parser.feed"), "" for module-level code

    @property
    def citation(self) -> str:
        """``path:line`` with a 1-based line, as editors and compilers print it."""
        return f"{self.path}:{self.start_line + 1}"


def chunk_lines(lines: list[str], path: str, max_lines: int = DEFAULT_MAX_LINES) -> list[SourceChunk]:
    """Plain windows of ``max_lines`` lines (blank-only windows are skipped)."""
    return _windows(lines, path, 0, len(lines) - 1, "", max_lines)


def chunk_tree(tree: Tree, source: str, spec: LanguageSpec, path: str,
               max_lines: int = DEFAULT_MAX_LINES) -> list[SourceChunk]:
    """Chunks along the definitions of ``tree`` (parsed from ``source``), in file order."""
    lines = source.split("\n")
    spans = _definition_spans(tree.root_node.named_children, spec, None, max_lines)
    chunks: list[SourceChunk] = []
    cursor = 0  # first line not yet in a chunk
    for start, end, name in spans:
        if start < cursor:  # nested span already covered (cannot happen for siblings; be safe)
            continue
        if start > cursor:  # module-level code between definitions
            chunks += _windows(lines, path, cursor, start - 1, "", max_lines)
        chunks += _windows(lines, path, start, end, name, max_lines)
        cursor = end + 1
    if cursor < len(lines):
        chunks += _windows(lines, path, cursor, len(lines) - 1, "", max_lines)
    return chunks


def _definition_spans(children: list[Node], spec: LanguageSpec, container: str | None,
                      max_lines: int) -> list[tuple[int, int, str]]:
    """(start line, end line, name) of each definition among ``children``; long classes by method."""
    spans: list[tuple[int, int, str]] = []
    for child in children:
        node = unwrap(child, spec)
        if node.type not in spec.functions | spec.classes | spec.types:
            continue
        name = node_name(node) or ""
        qualified = f"{container}.{name}" if container and name else name
        comment = leading_comment(child)
        start = (comment[0] if comment else child).start_point.row
        end = child.end_point.row
        body = node.child_by_field_name("body")
        if node.type in spec.classes and end - start + 1 > max_lines and body is not None:
            methods = _definition_spans(body.named_children, spec, qualified, max_lines)
            if methods:
                first = methods[0][0]
                if first > start:  # the class header, its docstring and attributes
                    spans.append((start, first - 1, qualified))
                spans += methods
                last = methods[-1][1]
                if last < end:  # whatever follows the last method (closing brace, attributes)
                    spans.append((last + 1, end, qualified))
                continue
        spans.append((start, end, qualified))
    return spans


def _windows(lines: list[str], path: str, start: int, end: int, name: str,
             max_lines: int) -> list[SourceChunk]:
    """Lines [start, end] as chunks of at most ``max_lines``, trimmed of blank edges."""
    found: list[SourceChunk] = []
    line = start
    while line <= end:
        last = min(end, line + max_lines - 1)
        first, final = line, last
        while first <= final and not lines[first].strip():
            first += 1
        while final >= first and not lines[final].strip():
            final -= 1
        if first <= final:
            text = "\n".join(lines[first : final + 1])
            found.append(SourceChunk(path, first, final, text, name))
        line = last + 1
    return found
