"""The language server on llama-cpp-python's OpenAI-compatible server (a real peer on
loopback, the same Q4_K_M GGUF), over LSP as an editor drives it: an inline completion, a code
action and a hover, each checked and timed; then the same through `ghostwright engine serve`.

    python bench/remote_backends.py --peer-python /opt/peer-venv/bin/python

(llama-cpp-python takes text prompts only, so this also checks that Qwen's repository-level
FIM text reaches it with its control tokens parsed: the completion must be a real body.)
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from common import default_model, save, table
from lsprotocol import types

from e2e.lsp_client import end_of, inline, open_doc, start_server, stop_server
from e2e.test_remote_backend import CODE  # the same workspace file the CI test uses
from support.engine_server import free_port, launch


async def session(url: str, work: Path) -> dict:
    ws = work / "ws"
    ws.mkdir(exist_ok=True)
    (ws / "primes.py").write_text(CODE)
    os.environ["GHOSTWRIGHT_HOVER_BUDGET_MS"] = "120000"
    client = await start_server("default", work / f"home-{free_port()}", ws,
                                {"backendUrl": url, "deadlineMs": 60000})
    out: dict = {}
    try:
        for _ in range(300):
            status = await client.workspace_execute_command_async(types.ExecuteCommandParams("ghostwright.status"))
            if status["loaded"] or status["error"]:
                break
            await asyncio.sleep(0.2)
        out["backend"] = (status.get("engine") or {}).get("backend", {}).get("kind") or status["error"]
        uri = (ws / "main.py").as_uri()
        text = "def fibonacci(n: int) -> int:\n    "
        open_doc(client, uri, text)
        started = time.monotonic()
        result = await inline(client, uri, *end_of(text))
        answer = result.items[0].insert_text if result and result.items else ""
        out["inline_s"] = time.monotonic() - started
        try:
            ast.parse(text + answer + "\n")
            out["inline_ok"] = bool(answer.strip())
        except SyntaxError:
            out["inline_ok"] = False
        out["inline"] = answer
        primes = (ws / "primes.py").as_uri()
        open_doc(client, primes, CODE)
        actions = await client.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(primes),
            range=types.Range(types.Position(6, 4), types.Position(6, 4)), context=types.CodeActionContext([])))
        action = next(a for a in actions if a.title.startswith("Add a docstring to count_primes"))
        started = time.monotonic()
        resolved = await client.code_action_resolve_async(action)
        out["action_s"] = time.monotonic() - started
        out["action_ok"] = resolved.edit is not None
        started = time.monotonic()
        hover = await client.text_document_hover_async(types.HoverParams(
            types.TextDocumentIdentifier(primes), types.Position(7, 44)))
        out["hover_s"] = time.monotonic() - started
        out["hover_ok"] = hover is not None and "is_prime" in hover.contents.value and "*function*" in \
            hover.contents.value and len(hover.contents.value.split("*function*", 1)[1].strip()) > 20
    finally:
        await stop_server(client)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peer-python", required=True, help="a python with llama-cpp-python[server]")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    _, gguf = default_model()
    work = Path(tempfile.mkdtemp(prefix="gw-remote-"))
    results = {}
    port = free_port()
    peer = subprocess.Popen([args.peer_python, "-m", "llama_cpp.server", "--model", str(gguf), "--port", str(port),
                             "--n_ctx", "4096", "--n_threads", str(args.threads)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if httpx.get(f"{url}/v1/models", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        results["llama-cpp-python"] = asyncio.run(session(url, work))
    finally:
        peer.terminate()
        peer.wait(10)
    (work / "engine").mkdir()
    (work / "engine" / "models").symlink_to(gguf.parent.parent.parent, target_is_directory=True)
    engine = launch([], {"GHOSTWRIGHT_HOME": str(work / "engine")}, work / "engine.log")
    try:
        results["ghostwright engine serve"] = asyncio.run(session(engine.url, work))
    finally:
        engine.stop()
    rows = [["backend", "kind", "inline", "s", "docstring action", "s", "hover", "s"]]
    for name, r in results.items():
        rows.append([name, str(r["backend"]), "ok" if r["inline_ok"] else "FAIL", f"{r['inline_s']:.2f}",
                     "ok" if r["action_ok"] else "FAIL", f"{r['action_s']:.2f}",
                     "ok" if r["hover_ok"] else "FAIL", f"{r['hover_s']:.2f}"])
    print(table(rows))
    save("remote_backends", results)


if __name__ == "__main__":
    main()
