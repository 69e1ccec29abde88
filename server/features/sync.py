"""textDocument/didOpen, didChange (incremental), didClose: our tree-sitter documents.

Each change is applied to the document's text and its syntax tree incrementally; the
lines it touched go into the recent-edits ring that prompts draw context from. A
notification cannot be answered, so a change that cannot apply (a line past the end) is
logged and shown once, and the document keeps its text and version: the whole
notification applies or none of it does. Changes to a document that is not open are ignored.
"""

from __future__ import annotations

import logging

from lsprotocol import types

from ghostwright.errors import RequestError
from ghostwright.server.context.document import Document

log = logging.getLogger(__name__)


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
        try:
            doc.apply_changes(changes, params.text_document.version)
        except RequestError as exc:
            log.warning("didChange %s version %s not applied: %s", doc.uri, params.text_document.version, exc)
            server.warn_once(f"an edit to {doc.uri} did not apply ({exc}); reopen the file to resync")
            return
        for rng, _ in changes:
            if rng is not None:
                server.recent_edits.record(doc, rng.start.line)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        server.documents.pop(uri, None)
        server.typed_ahead.forget(uri)
        server.completions.sticky.forget(uri)
        server.recent_edits.forget(uri)  # a closed file's edits are no longer "what the user is doing"
