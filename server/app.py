"""The language server object: shared state, and the features registered on it."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from ghostwright import __version__
from ghostwright.inference.api import Engine
from ghostwright.server.completion.recent_edits import RecentEdits
from ghostwright.server.completion.typed_ahead import TypedAheadCache
from ghostwright.server.context.document import Document
from ghostwright.server.engine_holder import EngineHolder
from ghostwright.server.lsp_errors import AnsweringProtocol
from ghostwright.server.settings import Settings
from ghostwright.server.telemetry import Telemetry

log = logging.getLogger(__name__)


class GhostwrightServer(LanguageServer):
    def __init__(self, engine_factory: Callable[[Settings], Engine]) -> None:
        super().__init__("ghostwright", __version__, protocol_cls=AnsweringProtocol,
                         text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.settings = Settings()
        self.documents: dict[str, Document] = {}
        self.recent_edits = RecentEdits()
        self.typed_ahead = TypedAheadCache()
        self.telemetry = Telemetry(self.settings.telemetry, on_error=self.warn_once)
        self.engines = EngineHolder(lambda: engine_factory(self.settings))
        self.index = None  # a WorkspaceIndex once the workspace root is known
        self.watcher = None
        self.client_reports_shown = False
        self.last_latency_ms: float | None = None
        self.exit_code = 0  # what `serve` returns: 1 once `exit` came without `shutdown` first

    def report_server_error(self, error: Exception, source: Any) -> None:
        """A body that is not JSON still gets an answer (-32700); other read-loop errors go to the user."""
        not_json = isinstance(error, (json.JSONDecodeError, UnicodeDecodeError))
        if not_json and isinstance(self.protocol, AnsweringProtocol):
            self.protocol.answer_parse_error(error)
            return
        super().report_server_error(error, source)

    def warn_once(self, message: str, every_s: float = 60.0) -> None:
        """Show an engine failure (a backend that is down, say) once, not on every keystroke."""
        import time

        shown = self.__dict__.setdefault("_warned", {})
        now = time.monotonic()
        if now - shown.get(message, -every_s) < every_s:
            return
        shown[message] = now
        self.window_show_message(types.ShowMessageParams(types.MessageType.Warning, f"Ghostwright: {message}"))

    def document(self, uri: str) -> Document:
        from ghostwright.errors import RequestError

        doc = self.documents.get(uri)
        if doc is None:
            raise RequestError(f"{uri} is not open (send textDocument/didOpen first)")
        return doc

    def workspace_name(self) -> str:
        """The workspace folder's name: the repository name a repository-level prompt starts with."""
        root = getattr(self.index, "root", None)
        return Path(root).name if root is not None else ""

    def start_index(self, root: Path) -> None:
        from ghostwright.server.context.index_watcher import IndexWatcher
        from ghostwright.server.context.workspace_index import WorkspaceIndex

        if self.index is not None or not root.is_dir():
            return
        self.index = WorkspaceIndex(root)
        self.index.start()
        try:
            self.watcher = IndexWatcher(self.index)
            self.watcher.start()
        except OSError as exc:  # inotify limits and the like: the index still works, just staler
            log.warning("cannot watch %s for changes: %s", root, exc)

    def shutdown_state(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
        if self.index is not None:
            self.index.stop()
        self.engines.close()


def create_server(engine_factory: Callable[[Settings], Engine]) -> GhostwrightServer:
    from ghostwright.server.features import (
        ask,
        code_actions,
        commands,
        completion,
        hover,
        inline_completion,
        lifecycle,
        sync,
    )

    server = GhostwrightServer(engine_factory)
    for feature in (lifecycle, sync, inline_completion, completion, commands, code_actions, hover, ask):
        feature.register(server)
    return server
