"""textDocument/completion: the same suggestion as one item, for clients without inline completion.

The item replaces the word being typed with that word plus the suggestion, so the
client's fuzzy filter keeps it while the user types on.
"""

from __future__ import annotations

from lsprotocol import types

from ghostwright.server.completion.accept import accept_command
from ghostwright.server.lsp_errors import lsp_boundary


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
        doc = server.document(params.text_document.uri)
        line_text = doc.text[: suggestion.offset].rsplit("\n", 1)[-1]
        word = line_text[len(line_text.rstrip("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")):]
        start = types.Position(params.position.line, params.position.character - len(word.encode("utf-16-le")) // 2)
        first_line = suggestion.text.split("\n", 1)[0]
        item = types.CompletionItem(
            label=(word + first_line).strip() or first_line,
            kind=types.CompletionItemKind.Snippet,
            detail="Ghostwright",
            text_edit=types.TextEdit(types.Range(start, params.position), word + suggestion.text),
            filter_text=word + first_line,
            insert_text_format=types.InsertTextFormat.PlainText,
            command=accept_command(request_id, suggestion.text),
            sort_text="0",
        )
        return types.CompletionList(is_incomplete=True, items=[item])
