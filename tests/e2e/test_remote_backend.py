"""The LSP server on a remote engine: `backendUrl` pointing at a real `ghostwright engine serve`
on loopback (the default profile), the shared engine daemon, and the faults: the backend
down at start, restarted under a running editor, and the local model as a configured fallback.

(Against llama-cpp-python's server, `bench/remote_backends.py` runs the same over LSP; it needs
llama-cpp-python, which CI does not build.)
"""

from __future__ import annotations

import ast
import asyncio
import os
import signal
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from lsprotocol import types

from e2e.lsp_client import end_of, inline, model_args, open_doc, start_server, stop_server
from support.engine_server import free_port, launch, metric

pytestmark = [pytest.mark.default_model]

CODE = '''def is_prime(n: int) -> bool:
    if n < 2:
        return False
    return all(n % d for d in range(2, int(n ** 0.5) + 1))


def count_primes(limit):
    return sum(1 for n in range(limit) if is_prime(n))
'''


@pytest.fixture
def engine(default_profile, tmp_path):
    home = tmp_path / "engine-home"
    model_args(default_profile, home)  # the exported models, shared into this home
    server = launch(["--model", default_profile], {"GHOSTWRIGHT_HOME": str(home)}, tmp_path / "engine.log")
    yield server
    server.stop()


@pytest_asyncio.fixture
async def lsp(tmp_path, default_profile, monkeypatch):
    started = []

    async def start(options: dict, home_name: str = "home"):
        monkeypatch.setenv("GHOSTWRIGHT_HOVER_BUDGET_MS", "60000")
        (tmp_path / "ws").mkdir(exist_ok=True)
        (tmp_path / "ws" / "primes.py").write_text(CODE)
        client = await start_server(default_profile, tmp_path / home_name, tmp_path / "ws",
                                    {"deadlineMs": 30000, **options})
        started.append(client)
        return client

    yield start
    for client in started:
        await stop_server(client)
    for sock in tmp_path.glob("home*/engine/*.sock"):  # a shared daemon outlives its editors: not a test's
        for pid in daemons(str(sock)):
            os.kill(pid, signal.SIGTERM)


async def status(client) -> dict:
    for _ in range(600):
        result = await client.workspace_execute_command_async(types.ExecuteCommandParams("ghostwright.status"))
        if result["loaded"] or result["error"]:
            return result
        await asyncio.sleep(0.1)
    raise AssertionError("the engine never loaded")


async def complete(client, uri: str, text: str) -> str:
    open_doc(client, uri, text)
    line, char = end_of(text)
    result = await inline(client, uri, line, char)
    return result.items[0].insert_text if result and result.items else ""


async def test_inline_action_and_hover_run_on_the_engine_server(engine, lsp, tmp_path):
    client = await lsp({"backendUrl": engine.url})
    info = await status(client)
    assert info["loaded"] and info["device"] == "remote:ghostwright", info
    assert info["engine"]["backend"]["kind"] == "ghostwright" and info["tiers"] == ["full", "mini"]
    uri = (tmp_path / "ws" / "main.py").as_uri()
    text = "def fibonacci(n: int) -> int:\n    "
    answer = await complete(client, uri, text)
    assert answer.strip(), "no suggestion through the engine server"
    ast.parse(text + answer + "\n")  # a whole body, from the real model on the other side
    page = httpx.get(f"{engine.url}/metrics").text
    assert metric(page, "ghostwright_generated_tokens_total") > 0

    primes = (tmp_path / "ws" / "primes.py").as_uri()
    open_doc(client, primes, CODE)
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(primes),
        range=types.Range(types.Position(6, 4), types.Position(6, 4)), context=types.CodeActionContext([])))
    docstring = next(a for a in actions if a.title.startswith("Add a docstring to count_primes"))
    resolved = await client.code_action_resolve_async(docstring)
    assert resolved.edit is not None, resolved.data
    edits = resolved.edit.document_changes[0].edits if resolved.edit.document_changes else resolved.edit.changes[primes]
    assert edits and all(6 <= e.range.start.line <= 7 for e in edits)

    hover = await client.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier(primes), types.Position(7, 44)))
    assert hover is not None and "is_prime" in hover.contents.value
    chat = metric(httpx.get(f"{engine.url}/metrics").text, "ghostwright_requests_total", route="completions",
                  finish="eos") + metric(httpx.get(f"{engine.url}/metrics").text, "ghostwright_requests_total",
                                         route="completions", finish="stop")
    assert chat >= 2  # the action and the hover explanation were decoded there too


async def test_an_engine_server_restart_is_survived(engine, lsp, tmp_path):
    client = await lsp({"backendUrl": engine.url})
    assert (await status(client))["loaded"]
    uri = (tmp_path / "ws" / "a.py").as_uri()
    assert (await complete(client, uri, "def add(a, b):\n    ")).strip()
    engine.stop()
    assert await complete(client, (tmp_path / "ws" / "b.py").as_uri(), "def sub(a, b):\n    ") == ""
    warnings: list[str] = []
    for _ in range(50):  # the notification may trail the (empty) answer
        warnings = [m.message for m in client.messages if m.type == types.MessageType.Warning]
        if any("not reachable" in w for w in warnings):
            break
        await asyncio.sleep(0.1)
    assert any("not reachable" in w for w in warnings), warnings
    assert (await status(client))["engine"]["connection"]["status"] == "disconnected"
    engine.restart()
    await asyncio.sleep(5.5)  # past the reconnect back-off
    assert (await complete(client, (tmp_path / "ws" / "c.py").as_uri(), "def mul(a, b):\n    ")).strip()
    assert (await status(client))["engine"]["connection"]["status"] == "connected"


async def test_a_backend_that_is_down_says_so_or_falls_back(lsp, tmp_path):
    down = f"http://127.0.0.1:{free_port()}"
    client = await lsp({"backendUrl": down})
    info = await status(client)
    assert not info["loaded"] and "not reachable" in info["error"] and down in info["error"], info
    fallback = await lsp({"backendUrl": down, "backendFallback": True}, home_name="home2")
    info = await status(fallback)
    assert info["loaded"], info
    answer = await complete(fallback, (tmp_path / "ws" / "f.py").as_uri(), "def square(x):\n    ")
    assert answer.strip()
    assert (await status(fallback))["engine"]["connection"]["status"] == "fallback"


def daemons(sock: str) -> list[int]:
    """Pids of `engine serve --uds sock` processes."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"engine" in args and b"--uds" in args and sock.encode() in args:
            found.append(int(entry.name))
    return found


async def test_two_editors_share_one_engine_daemon(lsp, tmp_path):
    first = await lsp({"sharedEngine": True})
    second = await lsp({"sharedEngine": True})
    for number, client in enumerate((first, second)):
        info = await status(client)
        assert info["loaded"] and info["device"] == "remote:ghostwright", info
        assert (await complete(client, (tmp_path / "ws" / f"s{number}.py").as_uri(), "def twice(x):\n    ")).strip()
    sockets = list((tmp_path / "home" / "engine").glob("*.sock"))
    assert len(sockets) == 1  # one daemon for both windows
    token = next((tmp_path / "home" / "engine").glob("*.token"))
    assert oct(token.stat().st_mode & 0o777) == "0o600"
    pids = daemons(str(sockets[0]))
    assert len(pids) == 1
