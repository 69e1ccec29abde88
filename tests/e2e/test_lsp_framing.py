"""The real server process over raw stdio: framing and JSON-RPC edge cases an editor (or a broken one) can send.

pytest-lsp only ever sends well-formed messages, so these tests write the bytes themselves: a bad body,
a wrong Content-Length, an unknown method, a storm of cancels, a client that just goes away. What must
hold in every case is that the server neither dies nor goes deaf: the next well-framed request is answered.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest_asyncio

from e2e.lsp_client import model_args

TIMEOUT_S = 10.0


def frame(body: bytes) -> bytes:
    """One message as LSP frames it: a Content-Length header, a blank line, the body."""
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def encode(message: dict[str, Any]) -> bytes:
    return json.dumps({"jsonrpc": "2.0", **message}).encode()


class RawServer:
    """``ghostwright serve`` as a subprocess, spoken to in bytes; everything it sends is kept in ``seen``."""

    def __init__(self, proc: asyncio.subprocess.Process, stderr: Path) -> None:
        self.proc, self.stderr = proc, stderr
        self.seen: list[dict[str, Any]] = []

    async def write(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        await self.proc.stdin.drain()

    async def send(self, message: dict[str, Any]) -> None:
        await self.write(frame(encode(message)))

    async def read(self) -> dict[str, Any]:
        """The next message; requests from the server (none are expected here) get a null result, not silence."""
        assert self.proc.stdout is not None
        length = None
        while (line := await self.proc.stdout.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        if length is None:
            raise EOFError("the server closed its stdout")
        message = json.loads(await self.proc.stdout.readexactly(length))
        self.seen.append(message)
        if "method" in message and "id" in message:
            await self.send({"id": message["id"], "result": None})
        return message

    async def response(self, msg_id: int | str, timeout: float = TIMEOUT_S) -> dict[str, Any]:
        """Read until the response to ``msg_id`` (notifications on the way are kept in ``seen``)."""
        async def wait() -> dict[str, Any]:
            while True:
                message = await self.read()
                if message.get("id") == msg_id and "method" not in message:
                    return message

        return await asyncio.wait_for(wait(), timeout)

    async def request(self, msg_id: int, method: str, params: Any = None) -> dict[str, Any]:
        await self.send({"id": msg_id, "method": method, "params": params})
        return await self.response(msg_id)

    async def initialize(self, root: Path) -> None:
        reply = await self.request(1, "initialize", {
            "processId": os.getpid(), "rootUri": root.as_uri(),
            "capabilities": {"textDocument": {"inlineCompletion": {}}},
            "initializationOptions": {"debounceMs": 0, "maxTokens": 4},
        })
        assert "capabilities" in reply["result"], reply
        await self.send({"method": "initialized", "params": {}})

    def responses(self) -> list[dict[str, Any]]:
        return [m for m in self.seen if "id" in m and "method" not in m]

    def assert_clean_exit(self) -> None:
        """No Python traceback, and no C++ abort (ONNX Runtime's threads torn down mid-load print this)."""
        log = self.stderr.read_text()
        assert "Traceback" not in log and "terminate called" not in log, log

    def shown(self) -> list[str]:
        return [m["params"]["message"] for m in self.seen if m.get("method") == "window/showMessage"]


@pytest_asyncio.fixture
async def server(tiny_model_dir: Path, tmp_path: Path) -> AsyncIterator[RawServer]:
    """The same command line and environment as ``e2e.lsp_client.start_server``; stderr goes to a file so that
    the verbose log can never fill a pipe and stall the server."""
    home = tmp_path / "home"
    env = {**os.environ, "GHOSTWRIGHT_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    stderr = tmp_path / "stderr.log"
    with stderr.open("wb") as err:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "ghostwright.cli", "-v", "serve", *model_args(tiny_model_dir, home),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=err, env=env,
            limit=1 << 20)
    raw = RawServer(proc, stderr)
    yield raw
    if proc.returncode is None:
        proc.kill()
        await proc.wait()


async def assert_still_serving(server: RawServer, msg_id: int = 99) -> None:
    """A request after the bad input is answered: the read loop survived and is in step with the framing."""
    reply = await server.request(msg_id, "shutdown")
    assert reply == {"jsonrpc": "2.0", "id": msg_id, "result": None}, reply


def status(msg_id: int) -> dict[str, Any]:
    """A request that needs no document and no model: it is answered as soon as it is read."""
    return {"id": msg_id, "method": "workspace/executeCommand", "params": {"command": "ghostwright.status"}}


async def test_body_that_is_not_json_is_answered_with_a_parse_error(server: RawServer, tmp_path: Path) -> None:
    """JSON-RPC: a body that is not JSON (or not UTF-8) gets ParseError (-32700) with a null id, since no id can
    be read from it; pygls only logged it and showed the user a message. The loop must go on."""
    await server.write(frame(b"{this is not json"))
    await server.write(frame(b'{"jsonrpc": "2.0", "id": 3, "method": "shutdown", "params": "\xff\xfe"}'))  # not UTF-8
    await server.initialize(tmp_path)
    errors = [(m["id"], m["error"]["code"]) for m in server.responses() if "error" in m]
    assert errors == [(None, -32700), (None, -32700)], server.seen
    assert "Expecting property name" in server.responses()[0]["error"]["message"], server.seen
    assert not server.shown(), server.seen  # answered, so not also shown to the user
    await assert_still_serving(server)


async def test_json_that_is_not_a_request_is_answered_as_invalid(server: RawServer, tmp_path: Path) -> None:
    """A list (a batch, which LSP does not have), a bare value, an object without ``"jsonrpc": "2.0"`` or with a
    method that is not a string: each gets InvalidRequest (-32600), with its id where one can be read and null
    where not (the spec's rule). A response to nothing is never answered (JSON-RPC answers no response)."""
    bodies = {b"[]": None, b'[{"jsonrpc": "2.0", "id": 2, "method": "shutdown"}]': None, b"42": None,
              b'"text"': None, b"null": None, b'{"id": 8, "method": "shutdown"}': 8,
              b'{"jsonrpc": "2.0", "id": 9, "method": 5}': 9, b'{"jsonrpc": "1.0", "id": 10, "method": "shutdown"}': 10,
              b'{"jsonrpc": "2.0", "id": 7, "result": null}': "none"}
    for body in bodies:
        await server.write(frame(body))
    await server.initialize(tmp_path)
    errors = [(m["id"], m["error"]["code"]) for m in server.responses() if "error" in m]
    assert errors == [(msg_id, -32600) for msg_id in bodies.values() if msg_id != "none"], server.seen
    assert not server.shown(), server.seen
    await assert_still_serving(server)


async def test_unknown_method_is_an_error_and_unknown_notification_is_ignored(server: RawServer,
                                                                               tmp_path: Path) -> None:
    """An unknown request must be answered (the client waits on its id); an unknown notification must not be,
    and ``$/`` ones are explicitly optional in LSP."""
    await server.initialize(tmp_path)
    reply = await server.request(5, "foo/bar", {"x": 1})
    assert reply["id"] == 5 and reply["error"]["code"] == -32601, reply
    await server.send({"method": "$/unknownThing", "params": {}})
    await server.send({"method": "unknown/notification", "params": {}})
    await assert_still_serving(server)
    assert [m["id"] for m in server.responses()] == [1, 5, 99], server.seen


MISFRAMED: dict[str, tuple[Callable[[bytes], bytes], set[int]]] = {  # how a body is sent; what is lost after it
    "short": (lambda body: b"Content-Length: 10\r\n\r\n" + body, {0}),
    "long": (lambda body: b"Content-Length: %d\r\n\r\n" % (len(body) + 20) + body, set()),
    "huge": (lambda body: b"Content-Length: 99999999999\r\n\r\n" + body, set()),
    "misspelt": (lambda body: b"Content-Lenght: %d\r\n\r\n" % len(body) + body, {0}),
    "no-header": (lambda body: body, {0}),
    "junk-line": (lambda body: b"garbage\r\n" + frame(body), set()),
}


async def test_misframed_messages_lose_only_themselves(server: RawServer, tmp_path: Path) -> None:
    """LSP cannot resync a byte stream, but a body is one line, so the next ``Content-Length:`` is findable.

    - a Content-Length shorter than the body: the cut body is a parse error, the rest is skipped up to the next
      header, and the next message is read;
    - a longer one (or a huge one) would swallow the next messages, or wait for bytes that never come: the body
      is cut where the next header starts (``HEADER`` never occurs inside JSON), so it still parses;
    - a misspelt or missing header: the body is skipped as header junk, and the next message is read;
    - a junk line before a good header is ignored.

    Without ``ResyncingStdin`` (server/lsp_stdin.py) pygls missed every header after the first misframed message:
    each body ran on into the next header on one line, and the server never answered again.
    """
    await server.initialize(tmp_path)
    for n, (name, (send, lost)) in enumerate(MISFRAMED.items()):
        ids = [100 * (n + 1) + i for i in range(4)]  # the misframed request, then three well-framed ones
        await server.write(send(encode(status(ids[0]))))
        for msg_id in ids[1:]:
            await server.send(status(msg_id))
        await server.response(ids[-1])
        answered = {m["id"] for m in server.responses()}
        assert {i for i, msg_id in enumerate(ids) if msg_id not in answered} == lost, (name, server.seen)
    await assert_still_serving(server)


async def test_notifications_leave_nothing_behind(server: RawServer, tmp_path: Path) -> None:
    """pygls filed a future for every notification handled by a generator (didOpen, didChange, ...) and never
    dropped it: ~1 KB per keystroke for the life of the server, a slope the soak saw. After 600 changes the
    server may be running only the status request that asks."""
    await server.initialize(tmp_path)
    uri = (tmp_path / "main.py").as_uri()
    await server.send({"method": "textDocument/didOpen", "params": {"textDocument": {
        "uri": uri, "languageId": "python", "version": 1, "text": ""}}})
    for version in range(2, 602):
        await server.send({"method": "textDocument/didChange", "params": {
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": [{"range": {"start": {"line": 0, "character": version - 2},
                                          "end": {"line": 0, "character": version - 2}}, "text": "x"}]}})
    reply = await server.request(7, "workspace/executeCommand", {"command": "ghostwright.status"})
    assert reply["result"]["inFlight"] <= 2, reply  # the status request (and its command) only


async def test_cancel_storm_answers_every_request_once(server: RawServer, tmp_path: Path) -> None:
    """Typing fast cancels most inline requests; each must still get exactly one answer (a result, or -32800
    RequestCancelled), since a client keeps a pending entry per id, and the server must not fall behind."""
    await server.initialize(tmp_path)
    uri = (tmp_path / "main.py").as_uri()
    await server.send({"method": "textDocument/didOpen", "params": {"textDocument": {
        "uri": uri, "languageId": "python", "version": 1, "text": "def add(a, b):\n    return "}}})
    def inline(msg_id: int) -> dict[str, Any]:
        return {"id": msg_id, "method": "textDocument/inlineCompletion", "params": {
            "textDocument": {"uri": uri}, "position": {"line": 1, "character": 11}, "context": {"triggerKind": 1}}}

    ids = range(1000, 1200)
    for msg_id in ids:
        await server.send(inline(msg_id))
        if msg_id % 10:  # nine in ten are cancelled at once, as a keystroke does
            await server.send({"method": "$/cancelRequest", "params": {"id": msg_id}})
    await server.send(inline(5000))
    final = await server.response(5000, timeout=10.0)
    assert "result" in final, final

    async def rest() -> None:
        while not set(ids) <= {m["id"] for m in server.responses()}:
            await server.read()

    await asyncio.wait_for(rest(), 30.0)
    await assert_still_serving(server)  # a late second answer to any of them would have come before this one
    answers = [m for m in server.responses() if m["id"] in ids]
    assert sorted(m["id"] for m in answers) == list(ids)  # each exactly once
    for m in answers:
        assert "result" in m or m["error"]["code"] == -32800, m
        if m["id"] % 10 == 0:
            assert "result" in m, m  # never cancelled


async def test_client_that_goes_away_ends_the_server(server: RawServer, tmp_path: Path) -> None:
    """An editor that crashes closes the pipe without shutdown/exit; the server must not linger as an orphan.
    It exits 0 and cleanly: before ``serve`` closed the engine, an EOF while the model was still loading could
    end in a SIGABRT from ONNX Runtime's threads (exit -6)."""
    await server.initialize(tmp_path)
    assert server.proc.stdin is not None
    server.proc.stdin.close()
    assert await asyncio.wait_for(server.proc.wait(), 10.0) == 0
    server.assert_clean_exit()


async def test_shutdown_then_exit_exits_zero(server: RawServer, tmp_path: Path) -> None:
    """LSP: exit after shutdown is a clean exit (code 0); editors use the code to tell a crash from a stop.
    This one is quick enough to land while the model still loads, which used to abort about one run in two
    (``EngineHolder.close`` now waits for the load)."""
    await server.initialize(tmp_path)
    await assert_still_serving(server)
    await server.send({"method": "exit"})
    assert await asyncio.wait_for(server.proc.wait(), 10.0) == 0
    server.assert_clean_exit()


async def test_exit_without_shutdown_exits_one(server: RawServer, tmp_path: Path) -> None:
    """LSP: exit without a shutdown first is exit code 1: the editor can tell the server did not stop cleanly."""
    await server.initialize(tmp_path)
    await server.send({"method": "exit"})
    assert await asyncio.wait_for(server.proc.wait(), 10.0) == 1
    server.assert_clean_exit()
