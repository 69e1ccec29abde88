"""Whether to complete at a position, and how much: one line or a block.

Inline completions fire on every pause in typing, so ``should_trigger`` refuses early and
cheaply: never in a file that may hold secrets, and (when the editor triggered on its
own) not when code already follows the cursor on its line — a suggestion there would
have to be spliced into the middle of the user's code.
"""

from __future__ import annotations

import re

from ghostwright.server.context.document import Document
from ghostwright.server.context.languages import LanguageSpec
from ghostwright.server.context.secrets import is_secret_file

SINGLE = "single"
MULTI = "multi"

# What may follow the cursor on its line and still count as "end of line".
_ONLY_CLOSERS = re.compile(r"""^[\s)\]}>"'`;,:]*$""")
# Nodes inside which a blank line continues an expression rather than starting a statement.
_CONTAINER_TYPES = (
    "argument_list arguments parameters formal_parameters parameter_list type_arguments"
    " list dictionary array object tuple set parenthesized_expression binary_expression"
    " string template_string string_literal raw_string_literal comment block_comment"
    " initializer_list field_initializer_list list_comprehension table_constructor"
)
_EXPRESSION_CONTAINERS = frozenset(_CONTAINER_TYPES.split())


def line_around(doc: Document, offset: int) -> tuple[str, str]:
    """The cursor line split at the cursor: (text before, text after)."""
    line = doc.lines.line_of(offset)
    return (
        doc.text[doc.lines.line_start(line) : offset],
        doc.text[offset : doc.lines.line_end(line)],
    )


def should_trigger(doc: Document, offset: int, automatic: bool) -> bool:
    """False when a completion must not be requested at ``offset``."""
    if doc.path is not None and is_secret_file(doc.path):
        return False
    if not automatic:
        return True
    return bool(_ONLY_CLOSERS.match(line_around(doc, offset)[1]))


def completion_mode(doc: Document, offset: int) -> str:
    """``"multi"`` where a new statement or block body starts, else ``"single"``.

    Multi: a blank line at a statement position (after a block opener, in an empty block,
    between statements) or the end of a line that opens a block. Single: mid-line,
    mid-expression, or a blank line inside brackets.
    """
    before, after = line_around(doc, offset)
    if not _ONLY_CLOSERS.match(after):
        return SINGLE
    if not before.strip():
        return SINGLE if _in_expression(doc, offset) else MULTI
    if doc.spec is not None and re.search(doc.spec.block_opener, before):
        return MULTI
    return SINGLE


def stop_strings(spec: LanguageSpec | None, mode: str) -> list[str]:
    """Stop strings for the request: the post-processor does the fine cutting."""
    if mode == SINGLE:
        return ["\n"]
    return ["\n\n\n", "```", *(spec.top_level_stops if spec else ())]


def _in_expression(doc: Document, offset: int) -> bool:
    if doc.tree is None or doc.spec is None:
        return False
    cursor = doc.lines.byte_offset(offset)
    node = doc.tree.root_node.descendant_for_byte_range(cursor, cursor)
    while node is not None:
        spec = doc.spec
        if node.type in spec.blocks or node.type in spec.functions or node.type in spec.classes:
            return False
        if node.type in _EXPRESSION_CONTAINERS and node.start_byte < cursor < node.end_byte:
            return True
        node = node.parent
    return False
