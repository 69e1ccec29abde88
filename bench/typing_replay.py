"""Type a real file into the real server, keystroke by keystroke, as an editor would.

Each keystroke is a didChange followed by an automatic textDocument/inlineCompletion; a
request still in flight when the next key arrives is cancelled ($/cancelRequest), as VS
Code does. Reported: p50/p95 latency from request to final response (answered requests
only), model calls per keystroke, typed-ahead cache hits, prompt tokens prefilled per
model call. Then the very prompts our server sent to its model go to llama-cpp-python's
OpenAI-compatible server on the same GGUF (same max_tokens, stop strings, greedy) for
the peer's round trip; its own built-in prefix reuse stays on, which only helps it.

    python bench/typing_replay.py --peer-python /opt/peer-venv/bin/python [--chars 600] [--cps 8] [--in-package]

The typed file is `watchdog/events.py` from the watchdog wheel (a dependency, Apache-2.0):
code that no one here wrote.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import default_model, infill_text, median, save, table


def source_text(chars: int) -> str:
    import watchdog.events

    text = Path(watchdog.events.__file__).read_text(encoding="utf-8")
    start = text.index("import ")  # skip the licence header: type code
    return text[start : start + chars]


def percentile(values: list[float], p: float) -> float:
    import numpy as np

    return float(np.percentile(values, p)) if values else float("nan")


def keystroke(client: LanguageClient, uri: str, version: int, line: int, col: int, ch: str):
    """Type ``ch`` at (line, col) as an editor does: a didChange, then an automatic inline request.
    Returns the request's future, its id and the cursor after the character."""
    here = types.Position(line, col)
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        [types.TextDocumentContentChangePartial(types.Range(here, here), ch)]))
    line, col = (line + 1, 0) if ch == "\n" else (line, col + len(ch.encode("utf-16-le")) // 2)
    msg_id = f"k{version}"
    future = client.protocol.send_request(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionParams(
        context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Automatic),
        text_document=types.TextDocumentIdentifier(uri), position=types.Position(line, col)), msg_id=msg_id)
    return future, msg_id, line, col


def package_workspace() -> Path:
    """watchdog's package as the workspace, without the file being typed: the user writes
    ``events.py`` inside the repository it belongs to, so the index and similar code have the rest."""
    import shutil

    import watchdog

    workspace = Path(tempfile.mkdtemp()) / "watchdog"
    shutil.copytree(Path(watchdog.__file__).parent, workspace, ignore=shutil.ignore_patterns("__pycache__"))
    (workspace / "events.py").unlink()
    return workspace


def pauses_here(text: str, at: int) -> bool:
    """Whether a typist pauses after ``text[at]``: at a new line's indentation, before its code,
    where an editor user waits to see what the assistant suggests for the line."""
    line_start = text.rfind("\n", 0, at + 1) + 1
    return at + 1 < len(text) and not text[at + 1].isspace() and not text[line_start : at + 1].strip() \
        and line_start > 0


async def replay(text: str, cps: float, home: Path, trace: Path, options: dict | None = None,
                 start: asyncio.Barrier | None = None, workspace: Path | None = None, pause_s: float = 0.0) -> dict:
    """One editor typing ``text``; ``options`` are its initializationOptions (a backendUrl, say);
    with ``start``, typing begins when every editor sharing the barrier has its model loaded;
    ``workspace``: the folder the file is typed in (an empty one by default); ``pause_s``: the
    typist stops this long at each new line's indentation (see :func:`pauses_here`)."""
    client = LanguageClient("typing-replay", "1")
    env = {**os.environ, "GHOSTWRIGHT_HOME": str(home), "GHOSTWRIGHT_TRACE_PROMPTS": str(trace)}
    await client.start_io(sys.executable, "-m", "ghostwright.cli", "serve", env=env)
    caps = types.ClientCapabilities(text_document=types.TextDocumentClientCapabilities(
        inline_completion=types.InlineCompletionClientCapabilities()))
    workspace = workspace or Path(tempfile.mkdtemp())
    await client.initialize_async(types.InitializeParams(capabilities=caps, root_uri=workspace.as_uri(),
                                                         initialization_options=options or {}))
    client.initialized(types.InitializedParams())
    uri = (workspace / "events.py").as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "python", 1, "")))
    await client.workspace_execute_command_async(types.ExecuteCommandParams("ghostwright.status"))
    # Wait for the model to load before the clock starts (an editor session is long-lived).
    for _ in range(600):
        status = await client.workspace_execute_command_async(types.ExecuteCommandParams("ghostwright.status"))
        if status["loaded"] and status.get("indexScanned") is not False:
            break
        await asyncio.sleep(0.1)
    if start is not None:
        await start.wait()
    latencies: list[float] = []
    at_pauses: list[float | None] = []  # per pause: the latency of a shown suggestion, or None
    shown = cancelled = errors = 0
    pending: tuple[object, float] | None = None
    line = col = 0

    def on_done(future, sent: float) -> None:
        nonlocal shown, errors
        if future.cancelled():
            return
        if future.exception() is not None:
            errors += "cancel" not in str(future.exception()).lower()  # a cancelled request is not an error
            return
        latencies.append((time.monotonic() - sent) * 1e3)
        if future.result() and future.result().items:
            shown += 1

    for version, ch in enumerate(text, start=2):
        if pending is not None and not pending[0].done():
            client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=pending[1]))
            cancelled += 1
        future, msg_id, line, col = keystroke(client, uri, version, line, col, ch)
        sent = time.monotonic()
        future.add_done_callback(lambda f, s=sent: on_done(f, s))
        pending = (future, msg_id)
        if pause_s and pauses_here(text, version - 2):
            await asyncio.sleep(pause_s)
            answer = future.result() if future.done() and not future.cancelled() and future.exception() is None \
                else None
            at_pauses.append(latencies[-1] if answer and answer.items else None)
        await asyncio.sleep(1 / cps)
    if pending is not None:
        await asyncio.wrap_future(pending[0])
    status = await client.workspace_execute_command_async(types.ExecuteCommandParams("ghostwright.status"))
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    calls, completed = status["modelCalls"], status["completedModelCalls"]
    shown_at_pauses = [ms for ms in at_pauses if ms is not None]
    return {
        "pauses": len(at_pauses), "pauses_shown": len(shown_at_pauses),
        "pause_latency_p50_ms": percentile(shown_at_pauses, 50),
        "pause_latency_p95_ms": percentile(shown_at_pauses, 95),
        "keystrokes": len(text), "answered": len(latencies), "cancelled_by_next_key": cancelled, "shown": shown,
        "errors": errors,
        "latency_p50_ms": percentile(latencies, 50), "latency_p95_ms": percentile(latencies, 95),
        "model_calls": calls, "model_calls_per_keystroke": calls / len(text),
        "typed_ahead_hits": status["typedAheadHits"],
        "completed_model_calls": completed,
        "prompt_tokens_per_call": status["promptTokens"] / completed if completed else 0,
        "prefilled_tokens_per_call": status["prefilledTokens"] / completed if completed else 0,
        "routes": (status.get("engine") or {}).get("router", {}).get("decisions", {}),
        "router_speeds": (status.get("engine") or {}).get("router", {}).get("speeds", {}),
        "server_peak_rss_mb": (status.get("memory") or {}).get("peakRssMb"),
        "server_rss_mb_after": (status.get("memory") or {}).get("rssMb"),
        "kv_resident_mb": {name: round(tier["kv_resident_mb"], 1) for name, tier in
                           ((status.get("engine") or {}).get("tiers") or {}).items() if "kv_resident_mb" in tier},
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peer_round_trips(peer_python: str, gguf: Path, trace: Path, threads: int, bundle: Path) -> list[float]:
    port = free_port()
    server = subprocess.Popen([peer_python, "-m", "llama_cpp.server", "--model", str(gguf), "--host", "127.0.0.1",
                               "--port", str(port), "--n_threads", str(threads), "--n_threads_batch", str(threads),
                               "--n_ctx", "2048"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1/completions"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        times = []
        for line in trace.read_text(encoding="utf-8").splitlines():
            call = json.loads(line)
            prompt = infill_text(call["prompt"], bundle)  # the same prompt, spelled as our full tier read it
            body = json.dumps({"prompt": prompt, "max_tokens": call["max_tokens"], "temperature": 0.0,
                               "stop": call["stop"][:4] or None}).encode()
            request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
            started = time.monotonic()
            with urllib.request.urlopen(request, timeout=120) as response:
                response.read()
            times.append((time.monotonic() - started) * 1e3)
        return times
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peer-python", help="a python with llama-cpp-python[server] installed")
    parser.add_argument("--chars", type=int, default=600, help="how much of the file to type")
    parser.add_argument("--cps", type=float, default=8.0, help="typing speed, characters per second")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--pause", type=float, default=0.0,
                        help="seconds the typist waits at each new line's indentation (0: types straight on)")
    parser.add_argument("--model", help="the editor's model setting (a profile, or full=MODEL/VARIANT,mini=...); "
                                        "default: the default profile")
    parser.add_argument("--in-package", action="store_true",
                        help="type events.py in a copy of watchdog's package (cross-file context), not an empty folder")
    args = parser.parse_args()
    from ghostwright.export.models import pull_profile
    from ghostwright.home import ghostwright_home

    full = pull_profile()["full"]
    trace = Path(tempfile.mkdtemp()) / "prompts.jsonl"
    workspace = package_workspace() if args.in_package else None
    options = {"model": args.model} if args.model else None
    ours = asyncio.run(replay(source_text(args.chars), args.cps, ghostwright_home(), trace, options,
                              workspace=workspace, pause_s=args.pause))
    traced = [json.loads(line) for line in trace.read_text(encoding="utf-8").splitlines()]
    # Server-side, per model call: from the request (debounce included), and from the end of the
    # debounce (prompt building, engine, cleaning: what the peer's round trip is compared with).
    ours["model_call_latency_p50_ms"] = median([t["latency_ms"] for t in traced])
    ours["model_call_latency_p95_ms"] = percentile([t["latency_ms"] for t in traced], 95)
    ours["model_time_p50_ms"] = median([t["model_ms"] for t in traced])
    ours["model_time_p95_ms"] = percentile([t["model_ms"] for t in traced], 95)
    rows = [["metric", "value"]] + [[k, f"{v:.2f}" if isinstance(v, float) else str(v)] for k, v in ours.items()]
    print(f"typing {ours['keystrokes']} characters of watchdog/events.py at {args.cps} chars/s")
    print(table(rows))
    result = {"ours": ours, "chars": args.chars, "cps": args.cps, "pause_s": args.pause, "in_package": args.in_package,
              "model": args.model or "default"}
    if args.peer_python:
        peer = peer_round_trips(args.peer_python, default_model()[1], trace, args.threads, full)
        result["peer"] = {"requests": len(peer), "round_trip_p50_ms": median(peer),
                          "round_trip_p95_ms": percentile(peer, 95)}
        peer_p50 = result["peer"]["round_trip_p50_ms"]
        print(f"llama-cpp-python server, same {len(peer)} prompts: p50 {peer_p50:.0f} ms, "
              f"p95 {result['peer']['round_trip_p95_ms']:.0f} ms")
        result["p50_ratio"] = ours["latency_p50_ms"] / peer_p50
        result["model_call_p50_ratio"] = ours["model_call_latency_p50_ms"] / peer_p50
        result["model_time_p50_ratio"] = ours["model_time_p50_ms"] / peer_p50
        print(f"our p50 per keystroke (request to final response, typed-ahead hits included) / peer p50 = "
              f"{result['p50_ratio']:.2f} (target <= 0.5)")
        print(f"per model call: our p50 with the server's debounce / peer p50 = "
              f"{result['model_call_p50_ratio']:.2f}; without it = {result['model_time_p50_ratio']:.2f}")
    save(("typing_replay_in_package" if args.in_package else "typing_replay") + ("_pauses" if args.pause else ""),
         result)


if __name__ == "__main__":
    main()
