"""The real server over stdio with the real default model, driven like an editor drives it."""

from __future__ import annotations

import ast
import asyncio
import time

import pytest
import pytest_asyncio
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from e2e.lsp_client import end_of, inline, open_doc, start_server, stop_server

pytestmark = [pytest.mark.default_model]

FUNCTION = '''import math


def is_prime(n: int) -> bool:
    """Return True if n is a prime number."""
    '''


@pytest_asyncio.fixture
async def client(default_profile, tmp_path):
    (tmp_path / "ws").mkdir()
    client = await start_server(default_profile, tmp_path / "home", tmp_path / "ws",
                                {"streaming": True, "deadlineMs": 30000})  # CI machines are slow and shared
    yield client
    await stop_server(client)


async def test_completion_of_a_function_body_is_valid_python(client, tmp_path):
    uri = (tmp_path / "ws" / "primes.py").as_uri()
    open_doc(client, uri, FUNCTION)
    partials = []
    client.protocol.fm.builtin_features  # noqa: B018 - the client is ready
    client.feature("ghostwright/partialCompletion")(lambda params: partials.append(params))
    line, char = end_of(FUNCTION)
    result = await inline(client, uri, line, char)
    assert result is not None and result.items, "no suggestion for a function body"
    item = result.items[0]
    assert item.range == types.Range(types.Position(line, char), types.Position(line, char))
    applied = FUNCTION + item.insert_text
    ast.parse(applied)  # the suggestion, applied at the cursor, is valid Python
    assert "return" in item.insert_text
    assert partials, "streaming was requested but no partial notification arrived"
    status = await client.workspace_execute_command_async(
        types.ExecuteCommandParams("ghostwright.status"))
    assert status["modelCalls"] == 1 and status["device"] == "cpu"


async def test_typing_the_suggestion_is_answered_from_cache(client, tmp_path):
    uri = (tmp_path / "ws" / "primes.py").as_uri()
    open_doc(client, uri, FUNCTION)
    line, char = end_of(FUNCTION)
    first = (await inline(client, uri, line, char)).items[0].insert_text
    typed = first[:2]
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        [types.TextDocumentContentChangePartial(
            types.Range(types.Position(line, char), types.Position(line, char)), typed)]))
    line2, char2 = end_of(FUNCTION + typed)
    second = await inline(client, uri, line2, char2, automatic=True)
    assert second.items[0].insert_text == first[2:]
    status = await client.workspace_execute_command_async(types.ExecuteCommandParams("ghostwright.status"))
    assert status["modelCalls"] == 1 and status["typedAheadHits"] == 1


def assert_suggests(result: types.InlineCompletionList | None) -> None:
    """The server answered with a suggestion the model wrote (not just "no error")."""
    assert isinstance(result, types.InlineCompletionList) and result.items, result
    text = result.items[0].insert_text
    assert (text if isinstance(text, str) else text.value).strip(), result


async def test_position_past_the_end_is_an_error_not_a_crash(client, tmp_path):
    uri = (tmp_path / "ws" / "a.py").as_uri()
    open_doc(client, uri, "x = 1\n")
    with pytest.raises(JsonRpcException, match="past the end"):
        await inline(client, uri, 40, 0)
    assert_suggests(await inline(client, uri, *end_of("x = 1\n")))  # still serving, with a real answer


async def test_cancellation_answers_promptly(client, tmp_path):
    uri = (tmp_path / "ws" / "primes.py").as_uri()
    open_doc(client, uri, FUNCTION)
    line, char = end_of(FUNCTION)
    params = types.InlineCompletionParams(
        context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Invoked),
        text_document=types.TextDocumentIdentifier(uri), position=types.Position(line, char))
    future = client.protocol.send_request(types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id="cancel-me")
    await asyncio.sleep(0.5)  # the model is decoding by now
    started = time.monotonic()
    client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="cancel-me"))
    with pytest.raises(JsonRpcException, match="cancel"):
        await asyncio.wrap_future(future)
    assert time.monotonic() - started < 1.0  # within a decode step or two, not the whole suggestion
    assert_suggests(await inline(client, uri, line, char))  # the server is free again and answers


async def test_huge_and_binary_files_do_not_stall_the_server(client, tmp_path):
    # 5 MB of lines that go on (the very same line again and again would be answered, rightly, with
    # nothing: a suggestion that re-types the lines above the cursor is dropped).
    big = "".join(f"x{i} = {i}\n" for i in range(5 * 1024 * 1024 // 14))
    open_doc(client, (tmp_path / "ws" / "big.py").as_uri(), big)
    open_doc(client, (tmp_path / "ws" / "blob.bin").as_uri(), "\x00\x01\x02binary\x00" * 1000, "plaintext")
    uri = (tmp_path / "ws" / "small.py").as_uri()
    open_doc(client, uri, "def add(a, b):\n    ")
    started = time.monotonic()
    assert_suggests(await inline(client, uri, 1, 4))
    assert_suggests(await inline(client, (tmp_path / "ws" / "big.py").as_uri(), *end_of(big)))
    assert time.monotonic() - started < 30
