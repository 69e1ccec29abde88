"""Runtime faults under a running editor session: the real `ghostwright serve` over stdio with a tiny
exported model (and, for the remote case, a real `ghostwright engine serve` on loopback).

Each fault must end the same way for the user: a clear message (a window/showMessage, a JSON-RPC
error, or the ``ghostwright.status`` command's ``error`` / ``connection`` fields), nothing they typed
lost (the open document is still the server's copy), and the server still answering whatever it can.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from lsprotocol import types
from pytest_lsp import LanguageClient

from e2e.lsp_client import end_of, inline, open_doc, start_server, stop_server
from support.engine_server import EngineServer, launch

# A prompt the tiny model is known to answer with a non-empty suggestion (see test_server_tiny.py).
TEXT = "from util import helper\n\n\ndef main():\n    "
# Every completion here must answer well within this: a fault may cost a clear error, never a hang.
ANSWER_S = 10.0


def command(client: LanguageClient, name: str, *args: Any):
    return client.workspace_execute_command_async(types.ExecuteCommandParams(name, list(args) or None))


async def status(client: LanguageClient) -> dict[str, Any]:
    """``ghostwright.status`` once the first load has finished (loaded or failed): what an editor's
    status bar shows."""
    for _ in range(300):
        info = await asyncio.wait_for(command(client, "ghostwright.status"), ANSWER_S)
        if info["loaded"] or info["error"]:
            return info
        await asyncio.sleep(0.1)
    raise AssertionError("the engine never finished loading")


async def message(client: LanguageClient, found: Callable[[str], bool], timeout: float = 15.0) -> str:
    """The first window/showMessage that ``found`` accepts; reloads report from their own thread, so the
    message may trail the request that caused it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for shown in client.messages:
            if found(shown.message):
                return shown.message
        await asyncio.sleep(0.1)
    raise AssertionError(f"no such message; shown: {[m.message for m in client.messages]}")


async def complete(client: LanguageClient, uri: str, text: str = TEXT) -> types.InlineCompletionList:
    """Open ``uri`` with ``text`` and ask for ghost text at its end, bounded so a hang fails fast."""
    open_doc(client, uri, text)
    line, char = end_of(text)
    result = await asyncio.wait_for(inline(client, uri, line, char), ANSWER_S)
    assert isinstance(result, types.InlineCompletionList), result
    return result


async def still_holds(client: LanguageClient, uri: str, text: str) -> None:
    """What the user typed is still the server's copy: a request past its last line is refused with
    the line count of exactly ``text``."""
    from pygls.exceptions import JsonRpcException

    lines = text.count("\n") + 1
    with pytest.raises(JsonRpcException, match=rf"past the end of the document \({lines} lines\)"):
        await asyncio.wait_for(inline(client, uri, lines + 5, 0), ANSWER_S)


def workspace(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "util.py").write_text("def helper(x: int) -> str:\n    return str(x)\n")
    return root


@pytest_asyncio.fixture
async def servers():
    """Start LSP servers through this; each is shut down (and its process ended) at teardown."""
    started: list[LanguageClient] = []

    async def start(*args: Any, **kwargs: Any) -> LanguageClient:
        client = await start_server(*args, **kwargs)
        started.append(client)
        return client

    yield start
    for client in started:
        try:
            await asyncio.wait_for(stop_server(client), 20)
        except Exception:  # a server a test left broken must not hide the test's own failure
            await client.stop()


# -- 1. the model folder goes away or rots under a running server ------------------------------------

def _corrupt_weights(model: Path, in_place: bool) -> None:
    """Cut every graph and weights file to a third: in place (the same inode, as `truncate` or an
    in-place copy tool does), or as a new file renamed over the old one (as a re-download does)."""
    for data in model.glob("*/*.onnx*"):
        if in_place:
            os.truncate(data, data.stat().st_size // 3)
        else:
            cut = data.with_name(data.name + ".partial")
            cut.write_bytes(data.read_bytes()[: data.stat().st_size // 3])
            os.replace(cut, data)


@pytest.mark.parametrize("fault", [
    "deleted",
    "replaced",
    "truncated",
])
async def test_a_reload_of_a_broken_model_folder_says_why_and_the_old_engine_keeps_serving(
        fault: str, servers, tiny_model_dir: Path, tmp_path: Path) -> None:
    """A model folder deleted or corrupted under a running server must not stop completions (the loaded
    engine holds its files open); the reload a settings change forces must fail with a message naming
    what is wrong (not hang, not crash the server), and the previous engine must go on serving. The
    mini tier is the one asked for: its int4 weights are read from the mapped file on every request, so
    truncating that file in place would kill the server with SIGBUS were the mapping not of a private
    copy (inference/private_load.py)."""
    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    ws = workspace(tmp_path / "ws")
    client = await servers(model, tmp_path / "home", ws, {"maxTokens": 8, "tier": "mini", "deadlineMs": 60000})
    assert (await status(client))["loaded"]
    first = ws.joinpath("a.py").as_uri()
    assert (await complete(client, first)).items

    if fault == "deleted":
        shutil.rmtree(model)
    else:
        _corrupt_weights(model, in_place=fault == "truncated")
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams({"fullTokenBudget": 40}))
    failed = await message(client, lambda m: "did not load" in m)
    assert "fullTokenBudget did not load, kept the current model" in failed, failed
    names = str(model) if fault == "deleted" else "model.onnx"
    assert names in failed, failed  # the reason says which folder or file is at fault

    info = await status(client)
    assert info["loaded"] and info["tiers"] == ["full", "mini"], info  # the old engine is still the one held
    second = ws.joinpath("b.py").as_uri()
    text = "def other():\n    "
    result = await complete(client, second, text)
    assert isinstance(result, types.InlineCompletionList)
    await still_holds(client, first, TEXT)
    await still_holds(client, second, text)


# -- 2. a remote engine server that dies and comes back ------------------------------------------------

@pytest.fixture
def daemon(tiny_model_dir: Path, tmp_path: Path):
    """A real `ghostwright engine serve` on a free loopback port; whatever the test did, it is killed."""
    home = tmp_path / "engine-home"
    home.mkdir()
    held: list[EngineServer] = [launch(["--model-dir", str(tiny_model_dir)], {"GHOSTWRIGHT_HOME": str(home)},
                                       tmp_path / "engine.log", timeout_s=60)]
    yield held
    for server in held:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait(10)


async def test_a_killed_remote_engine_is_reported_quickly_and_reconnected_after_a_restart(
        daemon: list[EngineServer], servers, tiny_model_dir: Path, tmp_path: Path) -> None:
    """SIGKILL gives no goodbye: the open keep-alive connection just dies. The next request must come
    back at once (empty, with the reason in the status and one warning), and once the daemon is back on
    the same port the same LSP session must complete again: no editor restart."""
    engine = daemon[0]
    ws = workspace(tmp_path / "ws")
    client = await servers(tiny_model_dir, tmp_path / "home", ws,
                           {"backendUrl": engine.url, "maxTokens": 8, "deadlineMs": 30000})
    info = await status(client)
    assert info["loaded"] and info["device"] == "remote:ghostwright", info
    assert (await complete(client, ws.joinpath("a.py").as_uri())).items

    engine.process.send_signal(signal.SIGKILL)
    engine.process.wait(10)
    began = time.monotonic()
    down_uri, down_text = ws.joinpath("b.py").as_uri(), "def sub(a, b):\n    "
    result = await complete(client, down_uri, down_text)
    assert time.monotonic() - began < 5.0, "a dead backend must answer fast"
    assert not result.items
    warned = await message(client, lambda m: "not reachable" in m)
    assert engine.url in warned, warned
    connection = (await status(client))["engine"]["connection"]
    assert connection["status"] == "disconnected" and "not reachable" in connection["last_error"], connection
    await still_holds(client, down_uri, down_text)

    daemon.append(launch(engine.args, engine.env, engine.log, engine.url, timeout_s=60))
    deadline = time.monotonic() + 15  # the reconnect is tried at most every RETRY_S (5 s)
    items: list[types.InlineCompletionItem] = []
    attempt = 0
    while not items and time.monotonic() < deadline:
        attempt += 1
        items = (await complete(client, ws.joinpath(f"c{attempt}.py").as_uri(),
                                f"def mul{attempt}(a, b):\n    ")).items
        if not items:
            await asyncio.sleep(0.5)
    assert items, "no completion after the engine server came back"
    assert (await status(client))["engine"]["connection"]["status"] == "connected"


# -- 3. the stats file cannot be written -------------------------------------------------------------

async def test_unwritable_stats_do_not_break_completion_or_accept(servers, tiny_model_dir: Path,
                                                                  tmp_path: Path) -> None:
    """Local stats are a convenience: a GHOSTWRIGHT_HOME that cannot be created (its parent is a regular
    file, which stops root too, unlike chmod) must cost the stats only, said once, never a completion."""
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where a folder should be\n")
    ws = workspace(tmp_path / "ws")
    client = await servers(tiny_model_dir, blocker / "home", ws, {"maxTokens": 8, "tier": "mini"})
    assert (await status(client))["loaded"]
    for number in range(3):
        result = await complete(client, ws.joinpath(f"s{number}.py").as_uri(), f"def step{number}():\n    ")
        assert isinstance(result, types.InlineCompletionList)
    for _ in range(3):
        await asyncio.wait_for(command(client, "ghostwright.accept", {"id": "1", "chars": 12}), ANSWER_S)
    warned = await message(client, lambda m: "stats" in m.lower())
    assert str(blocker) in warned, warned
    assert sum("stats" in m.message.lower() for m in client.messages) == 1, client.messages  # once, not per event
    assert (await status(client))["statsError"], "the status must say the stats are not being kept"
    stats = await asyncio.wait_for(command(client, "ghostwright.stats"), ANSWER_S)
    assert stats["accepted"] == 0  # nothing was kept, and the command says so rather than failing


# -- 4. workspace files vanish under the index --------------------------------------------------------

async def test_vanishing_workspace_files_leave_completion_in_other_files_working(servers, tiny_model_dir: Path,
                                                                                   tmp_path: Path) -> None:
    """The index watcher sees files deleted, replaced by a folder, or turned into a broken or looping
    symlink; none of that may reach a completion in another file, what is gone leaves the index, and the
    unsaved text of an open document whose file was deleted stays the server's copy."""
    ws = workspace(tmp_path / "ws")
    for name in ("gone", "folder", "dangling", "loop"):
        (ws / f"{name}.py").write_text(f"def {name}_fn(x):\n    return x\n")
    client = await servers(tiny_model_dir, tmp_path / "home", ws, {"maxTokens": 8, "tier": "mini"})
    assert (await status(client))["loaded"]
    for _ in range(100):
        if (await status(client))["indexedFiles"] >= 5:
            break
        await asyncio.sleep(0.1)
    assert (await status(client))["indexedFiles"] == 5
    edited = ws.joinpath("gone.py").as_uri()
    typed = "def gone_fn(x):\n    return x\n\n\ndef typed_but_unsaved():\n    "
    open_doc(client, edited, typed)  # the editor holds unsaved text for a file about to vanish from disk

    (ws / "gone.py").unlink()
    (ws / "folder.py").unlink()
    (ws / "folder.py").mkdir()
    (ws / "folder.py" / "inner.txt").write_text("not python\n")
    (ws / "dangling.py").unlink()
    (ws / "dangling.py").symlink_to(ws / "nowhere.py")
    (ws / "loop.py").unlink()
    (ws / "loop.py").symlink_to(ws / "loop.py")
    for _ in range(50):  # the watcher debounces its events (0.3 s)
        if (await status(client))["indexedFiles"] == 1:
            break
        await asyncio.sleep(0.1)
    assert (await status(client))["indexedFiles"] == 1  # only util.py is left

    uri = ws.joinpath("main.py").as_uri()
    assert (await complete(client, uri)).items
    await still_holds(client, uri, TEXT)
    line, char = end_of(typed)  # the open copy of the deleted file still completes: its text is the editor's
    assert isinstance(await asyncio.wait_for(inline(client, edited, line, char), ANSWER_S), types.InlineCompletionList)
    await still_holds(client, edited, typed)
    for level in (types.MessageType.Error, types.MessageType.Warning):
        assert not [m.message for m in client.messages if m.type == level], client.messages
