"""textDocument/inlineCompletion (LSP 3.18): ghost text at the cursor.

Items carry an explicit range (VS Code otherwise replaces the word under the cursor) and
an accept command for local telemetry. Clients that set ``streaming: true`` also get
``ghostwright/partialCompletion`` notifications with the text decoded so far.
"""

from __future__ import annotations

from lsprotocol import types

from ghostwright.server.completion.accept import accept_command
from ghostwright.server.completion.service import CompletionService
from ghostwright.server.lsp_errors import lsp_boundary


def register(server) -> None:
    service = server.completions = CompletionService(server)

    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    @lsp_boundary
    async def inline_completion(ls, params: types.InlineCompletionParams) -> types.InlineCompletionList | None:
        automatic = params.context.trigger_kind == types.InlineCompletionTriggerKind.Automatic
        request_id = server.protocol.msg_id
        suggestion = await service.suggest(params.text_document.uri, params.position.line,
                                           params.position.character, automatic=automatic,
                                           request_id=request_id)
        if suggestion is None:
            return types.InlineCompletionList(items=[])
        server.last_latency_ms = suggestion.latency_ms
        if not server.client_reports_shown:
            server.telemetry.record("shown", latency_ms=round(suggestion.latency_ms, 1), source=suggestion.source,
                                    chars=len(suggestion.text))
        cursor = types.Position(*server.document(params.text_document.uri).position_at(suggestion.offset))
        here = types.Range(cursor, cursor)  # past the line end or inside a surrogate pair: where the text has it
        return types.InlineCompletionList(items=[types.InlineCompletionItem(
            insert_text=suggestion.text, range=here, command=accept_command(request_id, suggestion.text))])
