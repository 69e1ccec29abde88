"""Hover explanations and ghostwright.ask through the real server over stdio, with the real model.

The workspace has AGENTS.md files at two depths; the prompts the server sent are read
back from its own trace (GHOSTWRIGHT_TRACE_PROMPTS), not mocked.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
import pytest_asyncio
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from e2e.lsp_client import end_of, inline, open_doc, start_server, stop_server
from ghostwright.server.ask.citations import find_citations

pytestmark = [pytest.mark.default_model]

CACHE_PY = '''"""A small cache of tokens."""

MAX_ENTRIES = 128


class TokenCache:
    """Keeps the most recently used tokens; evicts the oldest when full."""

    def __init__(self, size: int = MAX_ENTRIES) -> None:
        self.size = size
        self.items: dict[str, str] = {}

    def put(self, key: str, value: str) -> None:
        if len(self.items) >= self.size:
            oldest = next(iter(self.items))
            del self.items[oldest]
        self.items[key] = value


def is_prime(n: int) -> bool:
    if n < 2:
        return False
    for d in range(2, int(n ** 0.5) + 1):
        if n % d == 0:
            return False
    return True


def count_primes(limit: int) -> int:
    return sum(1 for n in range(limit) if is_prime(n))
'''

CONFIG_PY = '''import json


def parse_config(path: str) -> dict:
    """Read the JSON settings file at path."""
    with open(path) as handle:
        return json.load(handle)
'''

ROOT_RULE = "Call this project Quillbox."
DEEP_RULE = "Write for a beginner; never use jargon."


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    (ws / "pkg").mkdir(parents=True)
    (ws / "AGENTS.md").write_text(f"# Project\n{ROOT_RULE}\n")
    (ws / "pkg" / "AGENTS.md").write_text(f"{DEEP_RULE}\n")
    (ws / "pkg" / "cache.py").write_text(CACHE_PY)
    (ws / "pkg" / "config.py").write_text(CONFIG_PY)
    (ws / "pkg" / "limits.py").write_text("# Network limits.\nDEFAULT_TIMEOUT_SECONDS = 30\nRETRIES = 3\n")
    (ws / "ignored").mkdir()
    (ws / "ignored" / "cache_copy.py").write_text(CACHE_PY)
    (ws / ".gitignore").write_text("ignored/\n")
    return ws


@pytest_asyncio.fixture
async def start(default_profile, tmp_path, workspace, monkeypatch):
    """Start the server with a given hover budget; stopped after the test."""
    started = []

    async def launch(hover_budget_ms: int = 60000):  # generous by default: CI machines are slow and shared
        monkeypatch.setenv("GHOSTWRIGHT_TRACE_PROMPTS", str(tmp_path / "trace.jsonl"))
        monkeypatch.setenv("GHOSTWRIGHT_HOVER_BUDGET_MS", str(hover_budget_ms))
        client = await start_server(default_profile, tmp_path / "home", workspace, {"deadlineMs": 30000})
        started.append(client)
        return client

    yield launch
    for client in started:
        await stop_server(client)


@pytest_asyncio.fixture
async def client(start):
    return await start()


def traces(tmp_path: Path, feature: str) -> list[dict]:
    path = tmp_path / "trace.jsonl"
    lines = path.read_text().splitlines() if path.exists() else []
    return [record for record in map(json.loads, lines) if record["feature"] == feature]


async def hover(client, uri: str, line: int, character: int) -> tuple[types.Hover | None, float]:
    started = time.monotonic()
    result = await client.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier(uri), types.Position(line, character)))
    return result, time.monotonic() - started


def position_of(text: str, needle: str, nth: int = 0) -> tuple[int, int]:
    index = -1
    for _ in range(nth + 1):
        index = text.index(needle, index + 1)
    return end_of(text[: index + 1])


async def test_hover_explains_then_serves_the_cache(client, workspace, tmp_path):
    uri = (workspace / "pkg" / "cache.py").as_uri()
    open_doc(client, uri, CACHE_PY)
    first, cold = await hover(client, uri, *position_of(CACHE_PY, "is_prime"))
    assert first is not None
    text = first.contents.value
    assert text.startswith("```python\ndef is_prime(n: int) -> bool:\n```")
    explanation = text.split("*function*", 1)[1].strip()
    assert explanation.startswith("The function `is_prime`")  # the server's own prefill; the model goes on:
    assert "prime" in explanation[len("The function `is_prime`"):].lower(), explanation
    assert "cut short" not in text and "no explanation" not in text
    line, character = position_of(CACHE_PY, "is_prime")
    assert first.range.start == types.Position(line, character - 1)
    # The same definition hovered at its use in count_primes: same content hash, no model call.
    second, cached = await hover(client, uri, *position_of(CACHE_PY, "is_prime", nth=1))
    assert second.contents.value == text
    assert cached < 0.5 < cold, (cached, cold)
    records = traces(tmp_path, "hover")
    assert len(records) == 1  # one model call for both hovers
    system = records[0]["messages"][0]["content"]
    assert ROOT_RULE in system and DEEP_RULE in system
    assert system.index(ROOT_RULE) < system.index(DEEP_RULE)  # deeper AGENTS.md last: it overrides
    assert "def is_prime" in records[0]["messages"][1]["content"]
    print(f"hover cold {cold:.2f}s, cached {cached * 1e3:.0f}ms")


async def test_hover_answers_within_its_budget_and_fills_the_cache(start, workspace):
    client = await start(hover_budget_ms=1)  # the model cannot answer in 1 ms: the hover must not wait
    uri = (workspace / "pkg" / "cache.py").as_uri()
    open_doc(client, uri, CACHE_PY)
    blank, _ = await hover(client, uri, 1, 0)  # an empty line
    assert blank is None
    with pytest.raises(JsonRpcException, match="past the end"):
        await hover(client, uri, 400, 0)
    first, elapsed = await hover(client, uri, *position_of(CACHE_PY, "MAX_ENTRIES", nth=1))  # a use
    assert first.contents.value.startswith("```python\nMAX_ENTRIES = 128\n```\n\n*variable*")
    assert "no explanation within 0.001 s" in first.contents.value
    assert elapsed < 3.0, elapsed
    # The explanation went on decoding in the background; once done, a hover shows it from the cache.
    for _ in range(240):
        await asyncio.sleep(0.25)
        again, elapsed = await hover(client, uri, *position_of(CACHE_PY, "MAX_ENTRIES"))  # the definition
        if "no explanation" not in again.contents.value and "cut short" not in again.contents.value:
            break
    assert "The variable `MAX_ENTRIES`" in again.contents.value and elapsed < 0.5
    written = again.contents.value.split("The variable `MAX_ENTRIES`", 1)[1].lower()  # after the prefill
    assert any(word in written for word in ("cache", "entries", "128", "maximum", "size")), written


async def test_hover_does_not_delay_an_inline_completion(client, workspace):
    uri = (workspace / "pkg" / "cache.py").as_uri()
    open_doc(client, uri, CACHE_PY)
    typing = (workspace / "pkg" / "fresh.py").as_uri()
    source = "def add(a: int, b: int) -> int:\n    "
    open_doc(client, typing, source)
    finished: dict[str, float] = {}

    async def timed(name: str, request) -> object:
        result = await request
        finished[name] = time.monotonic()
        return result

    started = time.monotonic()
    hover_task = asyncio.create_task(timed("hover", hover(client, uri, *position_of(CACHE_PY, "TokenCache"))))
    await asyncio.sleep(0.5)  # the explanation is decoding now
    completion = await timed("completion", inline(client, typing, *end_of(source)))
    hovered, _ = await hover_task
    assert completion is not None and completion.items, "no completion while a hover explanation ran"
    assert hovered is not None and "class TokenCache" in hovered.contents.value
    # Priority: the completion, asked later, is answered before the background explanation finishes.
    assert finished["completion"] < finished["hover"], finished
    print(f"completion {finished['completion'] - started - 0.5:.2f}s after asking; "
          f"hover {finished['hover'] - started:.2f}s")


async def test_ask_streams_progress_and_cites_real_lines(client, workspace, tmp_path):
    token = "ask-1"
    client.progress_reports[token] = []  # the client created this token (as VS Code does)
    seen_before_answer: list[int] = []
    answered = asyncio.Event()

    async def watch() -> None:
        while not answered.is_set():
            reports = client.progress_reports[token]
            seen_before_answer.append(sum(1 for r in reports if isinstance(r, types.WorkDoneProgressReport)
                                          and r.message and not r.message.startswith("searching")))
            await asyncio.sleep(0.05)

    watcher = asyncio.create_task(watch())
    started = time.monotonic()
    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        "ghostwright.ask", [{"question": "How does TokenCache evict entries when it is full?",
                             "workDoneToken": token}]))
    elapsed = time.monotonic() - started
    answered.set()
    await watcher
    assert max(seen_before_answer) >= 1, "no partial answer was streamed before the result"
    kinds = [type(r).__name__ for r in client.progress_reports[token]]
    assert kinds[0] == "WorkDoneProgressBegin" and kinds[-1] == "WorkDoneProgressEnd"
    markdown = result["markdown"]
    assert "**Sources**" in markdown
    assert result["sources"][0]["path"] == "pkg/cache.py" and result["sources"][0]["name"].startswith("TokenCache")
    assert all(not s["path"].startswith("ignored/") for s in result["sources"])  # .gitignore honoured
    cited = find_citations(markdown)
    assert cited
    for path, line in cited:  # every citation is a real line of a workspace file
        lines = (workspace / path).read_text().split("\n")
        assert 1 <= line <= len(lines), (path, line)
    record = traces(tmp_path, "ask")[-1]
    assert ROOT_RULE in record["messages"][0]["content"]  # asked from no document: the root's AGENTS.md
    assert DEEP_RULE not in record["messages"][0]["content"]
    assert "[1] pkg/cache.py:" in record["messages"][1]["content"]
    print(f"ask {elapsed:.2f}s, finish {result['finish']}, citations {result['citations']}")


async def test_ask_creates_progress_itself_and_rejects_bad_arguments(client, workspace):
    for arguments in ([], [{"question": "  "}], [{"question": "q", "maxSources": 0}], [42]):
        with pytest.raises(JsonRpcException):
            await client.workspace_execute_command_async(types.ExecuteCommandParams("ghostwright.ask", arguments))
    assert not client.progress_reports  # refused before any work started
    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        "ghostwright.ask", ["What is the default timeout in seconds?"]))
    # A module of constants has no definitions for the symbol index, but Ask searches it too.
    assert result["sources"][0] == {"path": "pkg/limits.py", "line": 1, "endLine": 3, "name": ""}
    [(token, reports)] = client.progress_reports.items()  # created with window/workDoneProgress/create
    assert str(token).startswith("ghostwright/")
    assert isinstance(reports[0], types.WorkDoneProgressBegin) and isinstance(reports[-1], types.WorkDoneProgressEnd)
    for path, line in find_citations(result["markdown"]):
        assert 1 <= line <= len((workspace / path).read_text().split("\n")), (path, line)


async def test_ask_cancellation_stops_promptly(client):
    params = types.ExecuteCommandParams("ghostwright.ask", [{"question": "How does TokenCache evict entries?",
                                                             "workDoneToken": "ask-cancel"}])
    client.progress_reports["ask-cancel"] = []
    future = client.protocol.send_request(types.WORKSPACE_EXECUTE_COMMAND, params, msg_id="ask-cancel-id")
    for _ in range(600):  # until the answer is streaming
        if any(isinstance(r, types.WorkDoneProgressReport) and r.message and not r.message.startswith("searching")
               for r in client.progress_reports["ask-cancel"]):
            break
        await asyncio.sleep(0.05)
    started = time.monotonic()
    client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="ask-cancel-id"))
    with pytest.raises(JsonRpcException, match="cancel"):
        await asyncio.wrap_future(future)
    assert time.monotonic() - started < 2.0
    for _ in range(40):  # the progress is closed, saying why
        if isinstance(client.progress_reports["ask-cancel"][-1], types.WorkDoneProgressEnd):
            break
        await asyncio.sleep(0.05)
    assert client.progress_reports["ask-cancel"][-1].message == "cancelled"
