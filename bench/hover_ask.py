"""Hover and Ask latency over LSP with the default model, on Ghostwright's own source tree.

A real ``ghostwright serve`` over stdio gets this repository's ``server/`` folder (copied to a
temporary workspace, so nothing here is touched) as its workspace. For each hover target,
the first hover is cold (the model writes the explanation) and the second is served from
the cache; an inline completion is timed alone and while a hover explanation decodes
(hover runs at background priority: it should not slow typing); each Ask question is timed
end to end, its progress reports counted and its citations checked against the files.

    python bench/hover_ask.py            # results in bench/results/hover_ask.json
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import save, table

from ghostwright.server.ask.citations import find_citations

REPO = Path(__file__).resolve().parent.parent
HOVERS = [  # (file, pattern whose group 1 is the hovered name): definitions here, and uses of other files' code
    ("completion/service.py", r"async def (suggest)\("), ("completion/typed_ahead.py", r"class (TypedAheadCache)"),
    ("completion/service.py", r"text = (clean_completion)\("), ("app.py", r"= (TypedAheadCache)\("),
    ("features/commands.py", r"return (summarize)\("), ("features/lifecycle.py", r"= (parse_settings)\("),
]
CONTENDERS = [  # hovered while an inline completion is asked for: does the explanation delay typing?
    ("telemetry.py", r"def (record)\("), ("engine_holder.py", r"def (_load)\("),
    ("completion/typed_ahead.py", r"def (lookup)\("),
]
QUESTIONS = [
    "How are settings parsed and validated?",
    "How does the typed-ahead cache decide a suggestion is still valid?",
    "Where are secret files excluded from prompts?",
]


async def start(root: Path, home: Path) -> LanguageClient:
    """The server on the default model, with its own home (telemetry stays out of the user's)."""
    from ghostwright.export.models import pull_profile

    tiers = pull_profile()  # the default profile; the server loads the same bundles
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "GHOSTWRIGHT_HOVER_BUDGET_MS": "60000", "GHOSTWRIGHT_HOME": str(home)}
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "models").exists():
        (home / "models").symlink_to(tiers["full"].parent.parent, target_is_directory=True)
    config = ClientServerConfig(server_command=[sys.executable, "-m", "ghostwright.cli", "serve"], server_env=env)
    client = await config.start()
    capabilities = client_capabilities("visual-studio-code")
    capabilities.text_document.inline_completion = types.InlineCompletionClientCapabilities()
    await client.initialize_session(types.InitializeParams(
        capabilities=capabilities, root_uri=root.as_uri(),
        initialization_options={"debounceMs": 0}))
    return client


async def hover(client: LanguageClient, uri: str, line: int, character: int) -> tuple[str, float]:
    started = time.monotonic()
    result = await client.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier(uri), types.Position(line, character)))
    return (result.contents.value if result else ""), time.monotonic() - started


async def open_at(client: LanguageClient, root: Path, name: str, pattern: str) -> tuple[str, int, int, str]:
    """Open ``name`` and return (uri, line, character, symbol) inside the pattern's group 1."""
    text = (root / name).read_text()
    uri = (root / name).as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)))
    found = re.search(pattern, text)
    assert found is not None, (name, pattern)
    offset = found.start(1) + 1
    return uri, text.count("\n", 0, offset), offset - (text.rfind("\n", 0, offset) + 1), found[1]


async def complete(client: LanguageClient, root: Path, stem: str) -> float:
    """Seconds for an inline completion in a fresh file (no typed-ahead cache can answer it)."""
    text = f"def {stem}_sum(a: int, b: int) -> int:\n    "
    uri = (root / f"{stem}.py").as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)))
    started = time.monotonic()
    await client.text_document_inline_completion_async(types.InlineCompletionParams(
        context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Invoked),
        text_document=types.TextDocumentIdentifier(uri), position=types.Position(1, 4)))
    return time.monotonic() - started


async def run() -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="gw-hover-ask-"))
    root = work / "server"
    shutil.copytree(REPO / "server", root, ignore=shutil.ignore_patterns("__pycache__"))
    client = await start(root, work / "home")
    try:
        for _ in range(600):  # time the features, not the model loading
            status = await client.workspace_execute_command_async(types.ExecuteCommandParams("ghostwright.status"))
            if status["loaded"] or status["error"]:
                break
            await asyncio.sleep(0.2)
        hovers = []
        for name, pattern in HOVERS:
            uri, line, character, symbol = await open_at(client, root, name, pattern)
            shown, cold = await hover(client, uri, line, character)
            _, cached = await hover(client, uri, line, character)
            hovers.append({"symbol": symbol, "cold_s": round(cold, 2), "cached_ms": round(cached * 1e3, 1),
                           "complete": "budget ran out" not in shown and "no explanation" not in shown,
                           "text": shown})
        alone, contended = [], []
        for number, (name, pattern) in enumerate(CONTENDERS):
            alone.append(await complete(client, root, f"alone{number}"))
            uri, line, character, _ = await open_at(client, root, name, pattern)
            explaining = asyncio.create_task(hover(client, uri, line, character))
            await asyncio.sleep(0.5)  # the explanation is decoding now
            contended.append(await complete(client, root, f"contended{number}"))
            await explaining
        asks = []
        for number, question in enumerate(QUESTIONS):
            token = f"bench-{number}"
            client.progress_reports[token] = []
            started = time.monotonic()
            result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
                "ghostwright.ask", [{"question": question, "workDoneToken": token}]))
            seconds = time.monotonic() - started
            cited = find_citations(result["markdown"])
            real = sum(1 <= line <= len((root / path).read_text().split("\n")) for path, line in cited
                       if (root / path).is_file())
            asks.append({"question": question, "seconds": round(seconds, 2), "finish": result["finish"],
                         "progress_reports": len(client.progress_reports[token]), "citations": len(cited),
                         "real_citations": real, "sources": [s["path"] for s in result["sources"]],
                         "markdown": result["markdown"]})
    finally:
        await client.shutdown_session()
        await client.stop()
        shutil.rmtree(work, ignore_errors=True)
    return {"hovers": hovers, "asks": asks, "completion_alone_s": [round(x, 2) for x in alone],
            "completion_during_hover_s": [round(x, 2) for x in contended],
            "hover_cold_median_s": statistics.median(h["cold_s"] for h in hovers),
            "hover_cached_median_ms": statistics.median(h["cached_ms"] for h in hovers),
            "ask_median_s": statistics.median(a["seconds"] for a in asks)}


def main() -> None:
    results = asyncio.run(run())
    rows = [["hover", "cold s", "cached ms", "complete"]]
    rows += [[h["symbol"], f"{h['cold_s']:.2f}", f"{h['cached_ms']:.1f}", str(h["complete"])]
             for h in results["hovers"]]
    print(table(rows))
    rows = [["question", "s", "finish", "progress", "citations real/all"]]
    rows += [[a["question"][:48], f"{a['seconds']:.2f}", a["finish"], str(a["progress_reports"]),
              f"{a['real_citations']}/{a['citations']}"] for a in results["asks"]]
    print(table(rows))
    print("inline completion alone (s):", results["completion_alone_s"],
          "while a hover explanation decodes (s):", results["completion_during_hover_s"])
    print(f"saved {save('hover_ask', results)}")


if __name__ == "__main__":
    main()
