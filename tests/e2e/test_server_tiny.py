"""The real server process over stdio with a tiny exported model: protocol breadth."""

from __future__ import annotations

import pytest
import pytest_asyncio
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from e2e.lsp_client import end_of, inline, open_doc, start_server, stop_server


@pytest_asyncio.fixture
async def client(tiny_model_dir, tmp_path):
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "util.py").write_text("def helper(x: int) -> str:\n    return str(x)\n")
    client = await start_server(tiny_model_dir, tmp_path / "home", tmp_path / "ws",
                                {"maxTokens": 16, "tier": "fastest", "debounceMs": "soon"})
    yield client
    await stop_server(client)


def command(client, name: str, *args):
    return client.workspace_execute_command_async(types.ExecuteCommandParams(name, list(args) or None))


async def test_capabilities_are_advertised(client):
    caps = client.initialize_result.capabilities
    assert caps.inline_completion_provider is not None
    assert caps.completion_provider is not None
    assert caps.text_document_sync.change == types.TextDocumentSyncKind.Incremental
    assert {"ghostwright.accept", "ghostwright.status", "ghostwright.stats"} <= set(
        caps.execute_command_provider.commands)


async def test_bad_settings_are_reported_and_replaced(client):
    await command(client, "ghostwright.status")  # the server has processed initialize by now
    warnings = [m.message for m in client.messages if m.type == types.MessageType.Warning]
    assert any("'tier'" in w and "using 'auto'" in w for w in warnings), warnings
    assert any("'debounceMs'" in w for w in warnings), warnings


async def test_unopened_document_and_position_past_end_are_clear_errors(client, tmp_path):
    uri = (tmp_path / "ws" / "main.py").as_uri()
    with pytest.raises(JsonRpcException, match="is not open"):
        await inline(client, uri, 0, 0)
    open_doc(client, uri, "import os\n")
    with pytest.raises(JsonRpcException, match=r"line 9 is past the end of the document \(2 lines\)"):
        await inline(client, uri, 9, 0)


async def test_inline_and_fallback_completion_return_valid_results(client, tmp_path):
    uri = (tmp_path / "ws" / "main.py").as_uri()
    text = "from util import helper\n\n\ndef main():\n    "
    open_doc(client, uri, text)
    line, char = end_of(text)
    result = await inline(client, uri, line, char)
    assert isinstance(result, types.InlineCompletionList)
    for item in result.items:
        assert item.range == types.Range(types.Position(line, char), types.Position(line, char))
        assert item.command.command == "ghostwright.accept"
    fallback = await client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri), position=types.Position(line, char)))
    assert isinstance(fallback, types.CompletionList)
    status = await command(client, "ghostwright.status")
    assert status["loaded"] and status["modelCalls"] >= 1
    assert status["tiers"] == ["full", "mini"]


async def test_incremental_edits_with_surrogate_pairs(client, tmp_path):
    uri = (tmp_path / "ws" / "emoji.py").as_uri()
    open_doc(client, uri, 's = "😀"\n')
    # Insert after the emoji: UTF-16 column 7 is just past the surrogate pair.
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        [types.TextDocumentContentChangePartial(types.Range(types.Position(0, 7), types.Position(0, 7)), "🙂x")]))
    result = await inline(client, uri, 0, 10)  # 's = "😀🙂x' is 10 UTF-16 units
    assert isinstance(result, types.InlineCompletionList)


async def test_secret_files_get_no_completion(client, tmp_path):
    uri = (tmp_path / "ws" / ".env").as_uri()
    open_doc(client, uri, "AWS_SECRET_ACCESS_KEY=", "dotenv")
    result = await inline(client, uri, 0, 22)
    assert not result.items
    status = await command(client, "ghostwright.status")
    assert status["modelCalls"] == 0


async def test_accept_is_counted_in_local_stats(client, tmp_path):
    await command(client, "ghostwright.accept", {"id": "1", "chars": 12})
    stats = await command(client, "ghostwright.stats")
    assert stats["accepted"] == 1
    assert (tmp_path / "home" / "stats.jsonl").is_file()
