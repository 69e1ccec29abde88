"""Start the real `ghostwright serve` as a subprocess and talk LSP to it over stdio."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from ghostwright.home import models_dir


def capabilities() -> types.ClientCapabilities:
    """VS Code's profile, plus inline completion (pytest-lsp's profiles lack it)."""
    caps = client_capabilities("visual-studio-code")
    caps.text_document.inline_completion = types.InlineCompletionClientCapabilities()
    return caps


def model_args(model: Path | str, home: Path) -> list[str]:
    """``serve``'s model arguments: a folder as ``--model-dir``; a profile name as ``--model``, with the
    exported models shared into the server's own ``home`` (its stats file stays its own)."""
    if isinstance(model, Path):
        return ["--model-dir", str(model)]
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "models").exists():
        (home / "models").symlink_to(models_dir(), target_is_directory=True)
    return ["--model", model]


async def start_server(model: Path | str, home: Path, root: Path | None = None,
                       options: dict[str, Any] | None = None, env: dict[str, str] | None = None) -> LanguageClient:
    env = {**os.environ, "GHOSTWRIGHT_HOME": str(home), "PYTHONUNBUFFERED": "1", **(env or {})}
    config = ClientServerConfig(
        server_command=[sys.executable, "-m", "ghostwright.cli", "-v", "serve", *model_args(model, home)],
        server_env=env,
    )
    client = await config.start()
    client.initialize_result = await client.initialize_session(types.InitializeParams(
        capabilities=capabilities(),
        root_uri=root.as_uri() if root else None,
        initialization_options={"debounceMs": 0, **(options or {})},
    ))
    return client


async def stop_server(client: LanguageClient) -> None:
    await client.shutdown_session()
    await client.stop()


def open_doc(client: LanguageClient, uri: str, text: str, language: str = "python") -> None:
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        types.TextDocumentItem(uri=uri, language_id=language, version=1, text=text)))


async def inline(client: LanguageClient, uri: str, line: int, character: int,
                 automatic: bool = False) -> types.InlineCompletionList | None:
    kind = types.InlineCompletionTriggerKind.Automatic if automatic else types.InlineCompletionTriggerKind.Invoked
    return await client.text_document_inline_completion_async(types.InlineCompletionParams(
        context=types.InlineCompletionContext(trigger_kind=kind),
        text_document=types.TextDocumentIdentifier(uri),
        position=types.Position(line, character)))


def end_of(text: str) -> tuple[int, int]:
    """LSP position (UTF-16) of the end of ``text``."""
    lines = text.split("\n")
    return len(lines) - 1, len(lines[-1].encode("utf-16-le")) // 2
