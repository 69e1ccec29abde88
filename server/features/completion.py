"""textDocument/completion: the same suggestion as one item, for clients without inline completion.

The item replaces the word being typed with that word plus the suggestion, so the
client's fuzzy filter keeps it while the user types on.
"""

from __future__ import annotations

from lsprotocol import types

from ghostwright.server.completion.accept import accept_command
from ghostwright.server.context.document import Document
from ghostwright.server.lsp_errors import lsp_boundary

_WORD = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"


def word_range(doc: Document, offset: int) -> tuple[str, types.Range]:
    """The word being typed before str ``offset`` and its range, from the document's own positions:
    a request past the end of the line or inside a surrogate pair names the cursor the text has."""
    line_text = doc.text[:offset].rsplit("\n", 1)[-1].rsplit("\r", 1)[-1]
    word = line_text[len(line_text.rstrip(_WORD)):]
    start, end = doc.position_at(offset - len(word)), doc.position_at(offset)
    return word, types.Range(types.Position(*start), types.Position(*end))


def register(server) -> None:
    @server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=[".", "(", " "]))
    @lsp_boundary
    async def completion(ls, params: types.CompletionParams) -> types.CompletionList:
        request_id = server.protocol.msg_id
        suggestion = await server.completions.suggest(
            params.text_document.uri, params.position.line, params.position.character,
            automatic=False, request_id=request_id)
        if suggestion is None:
            return types.CompletionList(is_incomplete=True, items=[])
        word, replaced = word_range(server.document(params.text_document.uri), suggestion.offset)
        first_line = suggestion.text.split("\n", 1)[0]
        item = types.CompletionItem(
            label=(word + first_line).strip() or first_line,
            kind=types.CompletionItemKind.Snippet,
            detail="Ghostwright",
            text_edit=types.TextEdit(replaced, word + suggestion.text),
            filter_text=word + first_line,
            insert_text_format=types.InsertTextFormat.PlainText,
            command=accept_command(request_id, suggestion.text),
            sort_text="0",
        )
        return types.CompletionList(is_incomplete=True, items=[item])
