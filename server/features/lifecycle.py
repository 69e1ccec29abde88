"""initialize / initialized / workspace/didChangeConfiguration / shutdown.

Settings come from initializationOptions and later from didChangeConfiguration; bad
values are shown to the user once and replaced by defaults.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsprotocol import types

from ghostwright.server.context.document import uri_to_path
from ghostwright.server.settings import parse_settings
from ghostwright.server.verify.sandbox import allow_unisolated

# Settings the engine is built from: changing one after start-up loads a new engine.
ENGINE_SETTINGS = ("model", "device", "backend_url", "backend_api_key", "backend_api_key_env", "backend_model",
                   "backend_fallback", "shared_engine", "full_token_budget")


def _camel(name: str) -> str:
    """A setting's name as the user wrote it (``full_token_budget`` -> ``fullTokenBudget``)."""
    first, *rest = name.split("_")
    return first + "".join(part.title() for part in rest)


def register(server) -> None:
    def show(kind: types.MessageType, text: str) -> None:
        server.window_show_message(types.ShowMessageParams(kind, f"Ghostwright: {text}"))

    def apply(raw: object) -> None:
        before = server.settings
        server.settings, warnings = parse_settings(raw, server.settings)
        server.telemetry.enabled = server.settings.telemetry
        allow_unisolated(server.settings.allow_unisolated_code)
        for warning in warnings:
            show(types.MessageType.Warning, warning)
        changed = [_camel(name) for name in ENGINE_SETTINGS if getattr(before, name) != getattr(server.settings, name)]
        if changed:
            loop = asyncio.get_running_loop()  # the reload reports from its own thread
            server.engines.reload(lambda error: loop.call_soon_threadsafe(reloaded, changed, error))

    def reloaded(changed: list[str], error: str | None) -> None:
        server.typed_ahead.clear()
        if error is None:
            show(types.MessageType.Info, f"the model was reloaded for the new {', '.join(changed)}")
        else:
            show(types.MessageType.Error, f"the new {', '.join(changed)} did not load, kept the current model: {error}")

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

    @server.feature(types.EXIT)
    def exit_(ls, params: None) -> None:
        # LSP: exit without a shutdown first ends with code 1. pygls raises SystemExit(1) for it but then
        # swallows that in its own read loop, so the process ended with 0; `serve` returns this instead.
        server.exit_code = 0 if ls.protocol._shutdown else 1
