"""textDocument/didOpen, didChange (incremental), didClose: our tree-sitter documents.

Each change is applied to the document's text and its syntax tree incrementally; the
lines it touched go into the recent-edits ring that prompts draw context from.
"""

from __future__ import annotations

from lsprotocol import types

from ghostwright.server.context.document import Document


def register(server) -> None:
    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls, params: types.DidOpenTextDocumentParams) -> None:
        item = params.text_document
        server.documents[item.uri] = Document(item.uri, item.language_id, item.text, item.version)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls, params: types.DidChangeTextDocumentParams) -> None:
        doc = server.documents.get(params.text_document.uri)
        if doc is None:
            return
        changes = []
        for change in params.content_changes:
            rng = getattr(change, "range", None)
            changes.append((rng, change.text))
        doc.apply_changes(changes, params.text_document.version)
        for rng, _ in changes:
            if rng is not None:
                server.recent_edits.record(doc, rng.start.line)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        server.documents.pop(uri, None)
        server.typed_ahead.forget(uri)
        server.recent_edits.forget(uri)  # a closed file's edits are no longer "what the user is doing"
