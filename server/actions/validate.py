"""Is the edited region well-formed? tree-sitter's view: no ERROR or MISSING node inside it.

Only the region counts: a document may already be broken elsewhere (the user is typing), and an
action must not be blamed for, nor refuse because of, code it did not write.
"""

from __future__ import annotations

from tree_sitter import Node

from ghostwright.server.context.languages import LanguageSpec, new_parser
from ghostwright.server.context.positions import utf8_len

MAX_REPORTED = 3


def syntax_problems(spec: LanguageSpec | None, text: str, start: int, end: int) -> list[str]:
    """Problems tree-sitter finds in ``text[start:end]`` (str offsets) of the whole new ``text``.

    Empty when the region parses cleanly or when no grammar exists for the language (nothing
    to check against; the caller logs that it was not validated)."""
    parser = new_parser(spec)
    if parser is None:
        return []
    tree = parser.parse(text.encode("utf-8", "surrogatepass"))
    start_byte = utf8_len(text[:start])
    end_byte = start_byte + utf8_len(text[start:end])
    problems: list[str] = []
    _walk(tree.root_node, start_byte, end_byte, problems)
    return problems


def is_validated(spec: LanguageSpec | None) -> bool:
    return new_parser(spec) is not None


def _walk(node: Node, start: int, end: int, problems: list[str]) -> None:
    if len(problems) >= MAX_REPORTED or not node.has_error:
        return
    for child in node.children:
        if child.end_byte < start or child.start_byte > end:
            continue
        if child.is_missing:
            row, column = child.start_point
            problems.append(f"missing {child.type!r} at line {row + 1}, column {column + 1}")
        elif child.type == "ERROR":
            row, column = child.start_point
            snippet = (child.text or b"").decode("utf-8", "replace").strip().splitlines()
            problems.append(f"syntax error at line {row + 1}, column {column + 1}"
                            + (f": {snippet[0][:60]!r}" if snippet else ""))
        else:
            _walk(child, start, end, problems)
        if len(problems) >= MAX_REPORTED:
            return
