"""initialize / initialized / workspace/didChangeConfiguration / shutdown.

Settings come from initializationOptions and later from didChangeConfiguration; bad
values are shown to the user once and replaced by defaults.
"""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types

from ghostwright.server.context.document import uri_to_path
from ghostwright.server.settings import parse_settings


def register(server) -> None:
    def apply(raw: object) -> None:
        server.settings, warnings = parse_settings(raw, server.settings)
        server.telemetry.enabled = server.settings.telemetry
        for warning in warnings:
            server.window_show_message(types.ShowMessageParams(types.MessageType.Warning, f"Ghostwright: {warning}"))

    @server.feature(types.INITIALIZE)
    def initialize(ls, params: types.InitializeParams) -> None:
        options = params.initialization_options
        if isinstance(options, dict) and "reportsShown" in options:  # a client capability, not a setting
            server.client_reports_shown = bool(options["reportsShown"])
            options = {key: value for key, value in options.items() if key != "reportsShown"}
        apply(options)
        root = params.root_uri or (params.workspace_folders[0].uri if params.workspace_folders else None)
        if root and (path := uri_to_path(root)):
            server.workspace_root = Path(path)

    @server.feature(types.INITIALIZED)
    def initialized(ls, params: types.InitializedParams) -> None:
        server.engines.start()  # load the model now, off the event loop
        root = getattr(server, "workspace_root", None)
        if root is not None:
            server.start_index(root)

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration(ls, params: types.DidChangeConfigurationParams) -> None:
        apply(params.settings)

    @server.feature(types.SHUTDOWN)
    def shutdown(ls, params: None) -> None:
        server.shutdown_state()
