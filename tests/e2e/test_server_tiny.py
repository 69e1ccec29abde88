"""The real server process over stdio with a tiny exported model: protocol breadth."""

from __future__ import annotations

import pytest
import pytest_asyncio
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from e2e.lsp_client import end_of, inline, open_doc, start_server, stop_server


@pytest_asyncio.fixture
async def client(tiny_model_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("GHOSTWRIGHT_TRACE_PROMPTS", str(tmp_path / "prompts.jsonl"))  # what reached the model
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
    assert isinstance(result, types.InlineCompletionList) and result.items, result
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
    import json

    prompt = json.loads((tmp_path / "prompts.jsonl").read_text().splitlines()[-1])["prompt"]
    assert prompt["prefix"].endswith('s = "😀🙂x') and prompt["suffix"].startswith('"'), prompt  # the edit landed


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


MALFORMED = [
    ("textDocument/hover", {"textDocument": 5}),
    ("textDocument/inlineCompletion", {"textDocument": {"uri": "file:///a.py"}, "position": {"line": "x"}}),
    ("textDocument/codeAction", {}),
    ("textDocument/completion", {"position": {"line": 0, "character": 0}}),
    ("workspace/executeCommand", {"command": 7}),
    ("textDocument/inlineCompletion", None),
    ("textDocument/hover", [1, 2]),
    ("textDocument/hover", {"textDocument": {"uri": 3}, "position": {"line": 0, "character": 0}}),
    ("textDocument/inlineCompletion", {"textDocument": {"uri": "file:///a.py"}, "position": {"line": -1,
                                       "character": 0}, "context": {"triggerKind": 9}}),
    ("textDocument/codeAction", {"textDocument": {"uri": "file:///a.py"}, "range": "all", "context": {}}),
    ("textDocument/definition", {"textDocument": {}, "position": {}}),
]


def send_untyped(client, method: str, params: object):
    """Send params as they are, as raw JSON: the client's own types refuse to serialize bad ones."""
    import asyncio
    import uuid
    from concurrent.futures import Future

    protocol, msg_id = client.protocol, str(uuid.uuid4())
    future: Future = Future()
    protocol._request_futures[msg_id] = future  # the client matches the answer by id, as for its own requests
    protocol._send_data({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
    return asyncio.wrap_future(future)


async def test_every_malformed_request_is_answered_with_an_error_and_the_server_keeps_going(client, tmp_path):
    import asyncio

    with pytest.raises(JsonRpcException, match=r"textDocument/hover: invalid params \(While structuring HoverRequest"):
        await asyncio.wait_for(send_untyped(client, "textDocument/hover", {"textDocument": 5}), timeout=10)
    for method, params in MALFORMED:
        with pytest.raises(JsonRpcException) as raised:
            await asyncio.wait_for(send_untyped(client, method, params), timeout=10)
        assert raised.value.code == -32602 and str(raised.value).strip(), (method, params, raised.value)
    with pytest.raises(JsonRpcException) as raised:
        await asyncio.wait_for(send_untyped(client, "ghostwright/noSuchMethod", {"x": 1}), timeout=10)
    assert raised.value.code == -32601
    uri = (tmp_path / "ws" / "main.py").as_uri()
    open_doc(client, uri, "import os\n")
    assert isinstance(await inline(client, uri, 1, 0), types.InlineCompletionList)


async def test_a_closed_documents_edits_leave_the_prompts(tiny_model_dir, tmp_path, monkeypatch):
    import json

    trace = tmp_path / "prompts.jsonl"
    monkeypatch.setenv("GHOSTWRIGHT_TRACE_PROMPTS", str(trace))
    (tmp_path / "ws").mkdir()
    client = await start_server(tiny_model_dir, tmp_path / "home", tmp_path / "ws", {"maxTokens": 4, "tier": "full"})
    try:
        edited, other = (tmp_path / "ws" / "a.py").as_uri(), (tmp_path / "ws" / "b.py").as_uri()
        open_doc(client, edited, "def alpha():\n    return 1\n")
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(version=2, uri=edited),
            [types.TextDocumentContentChangePartial(types.Range(types.Position(1, 0), types.Position(1, 0)),
                                                    "    zebra_marker = 42\n")]))
        text = "def beta():\n    "
        open_doc(client, other, text)

        async def prompt_at(line: int, character: int) -> str:
            await inline(client, other, line, character)
            return json.dumps(json.loads(trace.read_text().splitlines()[-1])["prompt"])

        assert "zebra_marker" in await prompt_at(*end_of(text))  # an open document's edit is context
        client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(edited)))
        assert "zebra_marker" not in await prompt_at(1, 0)
    finally:
        await stop_server(client)


async def test_the_full_tiers_token_budget_sends_requests_to_mini_once_spent(tiny_model_dir, tmp_path):
    (tmp_path / "ws").mkdir()
    client = await start_server(tiny_model_dir, tmp_path / "home", tmp_path / "ws",
                                {"maxTokens": 8, "fullTokenBudget": 40, "deadlineMs": 60000})
    try:
        uri = (tmp_path / "ws" / "main.py").as_uri()
        text = "def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    "
        open_doc(client, uri, text)
        for character in (4, 3, 2):  # three different prompts: no typed-ahead answer
            await inline(client, uri, 5, character)
        routes = (await command(client, "ghostwright.status"))["engine"]["router"]["decisions"]
        assert routes.get("full:default", 0) >= 1 and routes.get("mini:full budget 90% spent", 0) >= 1, routes
    finally:
        await stop_server(client)


async def test_a_changed_engine_setting_reloads_the_engine(tiny_model_dir, tmp_path):
    import asyncio

    (tmp_path / "ws").mkdir()
    client = await start_server(tiny_model_dir, tmp_path / "home", tmp_path / "ws", {"maxTokens": 8,
                                                                                     "deadlineMs": 60000})
    try:
        uri = (tmp_path / "ws" / "main.py").as_uri()
        text = "def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    "
        open_doc(client, uri, text)
        await inline(client, uri, 5, 4)
        client.workspace_did_change_configuration(types.DidChangeConfigurationParams({"fullTokenBudget": 40}))
        for _ in range(100):
            if any("reloaded" in m.message for m in client.messages):
                break
            await asyncio.sleep(0.1)
        assert any("reloaded for the new fullTokenBudget" in m.message for m in client.messages), client.messages
        for character in (3, 2, 1):
            await inline(client, uri, 5, character)
        routes = (await command(client, "ghostwright.status"))["engine"]["router"]["decisions"]
        assert routes.get("mini:full budget 90% spent", 0) >= 1, routes  # the new engine holds the new budget
        client.workspace_did_change_configuration(types.DidChangeConfigurationParams({"backendUrl": "http://127.0.0.1:9"}))
        for _ in range(100):
            if any("did not load" in m.message for m in client.messages):
                break
            await asyncio.sleep(0.1)
        assert any("did not load, kept the current model" in m.message for m in client.messages), client.messages
        assert isinstance(await inline(client, uri, 5, 0), types.InlineCompletionList)  # the old one still serves
    finally:
        await stop_server(client)


async def test_secrets_stay_out_of_action_prompts_and_secret_files_get_no_actions(client, tmp_path):
    import json

    key = "sk-" + "abcdefghij" * 3
    text = f'import os\n\n\ndef connect(host):\n    headers = {{"Authorization": "{key}"}}\n    return host, headers\n'
    uri = (tmp_path / "ws" / "net.py").as_uri()
    open_doc(client, uri, text)
    here = types.Range(types.Position(3, 4), types.Position(3, 4))
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        types.TextDocumentIdentifier(uri), here, types.CodeActionContext(diagnostics=[])))
    docstring = next(a for a in actions if a.title.startswith("Add a docstring"))
    docstring.data = {**docstring.data, "maxTokens": 8}
    await client.code_action_resolve_async(docstring)
    records = [json.loads(line) for line in (tmp_path / "prompts.jsonl").read_text().splitlines()]
    sent = [r for r in records if r["kind"] == "action"]
    assert sent and all("def connect" in json.dumps(r) for r in sent)  # the function went to the model...
    assert not any(key in json.dumps(r) for r in records)  # ...its key did not
    env = (tmp_path / "ws" / ".env").as_uri()
    open_doc(client, env, f"OPENAI_API_KEY={key}\n", "dotenv")
    assert await client.text_document_code_action_async(types.CodeActionParams(
        types.TextDocumentIdentifier(env), types.Range(types.Position(0, 0), types.Position(0, 5)),
        types.CodeActionContext(diagnostics=[]))) is None
