"""Soak: a long editing session against the real server; does anything grow without bound?

One editor types a real file into the server at a keystroke every 150 ms, with an automatic
inline completion per keystroke (the one still in flight is cancelled by the next key, as VS
Code does), asks for code actions every 20 s, resolves one (a docstring, a model call) every
2 minutes and hovers every minute. After ``--chars`` characters (the first 3,000 of watchdog's
events.py: about 7.5 minutes of typing) the document is emptied and typing starts again, so
the workload repeats and a steady state exists: what still grows after the first rounds leaks.
The server process's RSS, open file descriptors and threads are read from /proc every 10 s;
after the warm-up their slopes (least squares, per hour) should be about zero. Leaks show as slopes, not as one big
number.

    python bench/soak.py [--minutes 30] [--warmup 10] [--chars 3000]

Runs on the default profile's full-tier model (the bundle the demo prepared).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import save, table
from typing_replay import keystroke, percentile, source_text

KEY_S = 0.150
SAMPLE_S = 10.0
ACTIONS_EVERY_S, RESOLVE_EVERY_S, HOVER_EVERY_S = 20.0, 120.0, 60.0
SIDE = '''def area(width, height):
    return width * height


def scale(points, factor):
    return [(x * factor, y * factor) for x, y in points]
'''


def sample(pid: int) -> dict[str, float]:
    """RSS (MB), open fds and threads of ``pid`` and its children, from /proc."""
    pids = [pid, *_children(pid)]
    rss = fds = threads = 0.0
    for p in pids:
        try:
            status = Path(f"/proc/{p}/status").read_text()
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            rss += int(fields["VmRSS"].split()[0]) / 1024
            threads += int(fields["Threads"])
            fds += len(os.listdir(f"/proc/{p}/fd"))
        except (OSError, KeyError, ValueError):
            continue  # a child that just exited
    return {"rss_mb": rss, "fds": fds, "threads": threads, "processes": len(pids)}


async def kv_pages(client: LanguageClient) -> dict[str, float]:
    """KV cache pages the engine has touched so far (mincore), and the most all its slots can take:
    RSS that grows with these is a cache filling up to a known bound, not a leak."""
    status = await client.workspace_execute_command_async(types.ExecuteCommandParams("ghostwright.status"))
    tiers = ((status.get("engine") or {}).get("tiers") or {}).values()
    return {"kv_resident_mb": sum(t.get("kv_resident_mb", 0.0) for t in tiers),
            "kv_bound_mb": sum(t.get("kv_bound_mb", 0.0) for t in tiers)}


def _children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [int(p) for p in found] + [c for p in found for c in _children(int(p))]


def slope_per_hour(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, value), per hour."""
    if len(points) < 2:
        return float("nan")
    n = len(points)
    mx, my = sum(t for t, _ in points) / n, sum(v for _, v in points) / n
    var = sum((t - mx) ** 2 for t, _ in points)
    return sum((t - mx) * (v - my) for t, v in points) / var * 3600 if var else 0.0


async def soak(minutes: float, home: Path, chars: int = 3000) -> dict:
    client = LanguageClient("soak", "1")
    env = {**os.environ, "GHOSTWRIGHT_HOME": str(home)}
    await client.start_io(sys.executable, "-m", "ghostwright.cli", "serve", env=env)
    server = client._server  # the asyncio subprocess: its pid, and stderr to drain
    drain = asyncio.create_task(_drain(server.stderr))
    caps = types.ClientCapabilities(text_document=types.TextDocumentClientCapabilities(
        inline_completion=types.InlineCompletionClientCapabilities()))
    workspace = Path(tempfile.mkdtemp())
    (workspace / "shapes.py").write_text(SIDE, encoding="utf-8")
    await client.initialize_async(types.InitializeParams(capabilities=caps, root_uri=workspace.as_uri()))
    client.initialized(types.InitializedParams())
    uri, side = (workspace / "events.py").as_uri(), (workspace / "shapes.py").as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "python", 1, "")))
    client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(side, "python", 1, SIDE)))
    for _ in range(900):
        status = await client.workspace_execute_command_async(types.ExecuteCommandParams("ghostwright.status"))
        if status["loaded"]:
            break
        await asyncio.sleep(0.2)

    text = source_text(chars)
    counts = {"keystrokes": 0, "answered": 0, "shown": 0, "cancelled": 0, "errors": 0, "restarts": 0,
              "action_lists": 0, "resolved": 0, "resolve_errors": 0, "hovers": 0, "hover_errors": 0}
    latencies: list[float] = []
    samples: list[dict[str, float]] = []
    pending = None
    version, i, line, col = 1, 0, 0, 0
    started = time.monotonic()
    next_sample = next_actions = started
    next_resolve, next_hover = started + 30, started + 45

    problems: list[str] = []  # the first few errors and messages, to say what they were

    @client.feature(types.WINDOW_SHOW_MESSAGE)
    def shown_message(params: types.ShowMessageParams) -> None:
        if len(problems) < 20:
            problems.append(f"{params.type.name}: {params.message}")

    def done(future, sent: float) -> None:
        if future.cancelled():
            return
        if future.exception() is not None:
            error = str(future.exception())
            if "cancel" not in error.lower():
                counts["errors"] += 1
                if len(problems) < 20:
                    problems.append(f"inline error: {error}")
            return
        counts["answered"] += 1
        latencies.append((time.monotonic() - sent) * 1e3)
        counts["shown"] += bool(future.result() and future.result().items)

    while (now := time.monotonic()) - started < minutes * 60:
        if now >= next_sample:
            samples.append({"t": now - started, **sample(server.pid), **await kv_pages(client)})
            next_sample += SAMPLE_S
        if pending is not None and not pending[0].done():
            client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=pending[1]))
            counts["cancelled"] += 1
        version += 1
        if i == len(text):  # the end of the file: empty the document and type it again
            client.text_document_did_change(types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                [types.TextDocumentContentChangeWholeDocument("")]))
            i, line, col = 0, 0, 0
            counts["restarts"] += 1
            version += 1
        ch = text[i]
        i += 1
        future, msg_id, line, col = keystroke(client, uri, version, line, col, ch)
        counts["keystrokes"] += 1
        sent = time.monotonic()
        future.add_done_callback(lambda f, s=sent: done(f, s))
        pending = (future, msg_id)
        if now >= next_actions:
            next_actions += ACTIONS_EVERY_S
            await client.text_document_code_action_async(types.CodeActionParams(
                types.TextDocumentIdentifier(uri), types.Range(types.Position(line, 0), types.Position(line, col)),
                types.CodeActionContext(diagnostics=[])))
            counts["action_lists"] += 1
        if now >= next_resolve:
            next_resolve += RESOLVE_EVERY_S
            await _resolve_docstring(client, side, counts)
        if now >= next_hover:
            next_hover += HOVER_EVERY_S
            try:
                await client.text_document_hover_async(types.HoverParams(
                    types.TextDocumentIdentifier(side), types.Position(4, 6)))
                counts["hovers"] += 1
            except Exception:  # counted: a soak reports errors, it does not stop at one
                counts["hover_errors"] += 1
        await asyncio.sleep(max(0.0, KEY_S - (time.monotonic() - now)))
    samples.append({"t": time.monotonic() - started, **sample(server.pid), **await kv_pages(client)})
    for s in samples:  # what is left when the KV pages (bounded by slots x cache) are taken out
        s["rss_without_kv_mb"] = s["rss_mb"] - s["kv_resident_mb"]
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    drain.cancel()
    return {"counts": counts, "problems": problems, "latency_p50_ms": percentile(latencies, 50),
            "latency_p95_ms": percentile(latencies, 95), "samples": samples}


async def _resolve_docstring(client: LanguageClient, uri: str, counts: dict[str, int]) -> None:
    """Resolve "Add a docstring" on area(): a model call through the action path; the edit is
    not applied, so the side document stays as it is."""
    found = await client.text_document_code_action_async(types.CodeActionParams(
        types.TextDocumentIdentifier(uri), types.Range(types.Position(0, 4), types.Position(0, 4)),
        types.CodeActionContext(diagnostics=[])))
    actions = [a for a in found or [] if isinstance(a, types.CodeAction) and "docstring" in a.title.lower()]
    if not actions:
        counts["resolve_errors"] += 1
        return
    action = actions[0]
    action.data = {**(action.data or {}), "maxTokens": 48}
    try:
        await client.code_action_resolve_async(action)
        counts["resolved"] += 1
    except Exception:  # counted, as above
        counts["resolve_errors"] += 1


async def _drain(stream: asyncio.StreamReader | None) -> None:
    """Read the server's stderr so that its log never fills the pipe and blocks it."""
    while stream is not None and await stream.read(65536):
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=10.0, help="minutes left out of the slopes")
    parser.add_argument("--chars", type=int, default=3000, help="characters typed before the document restarts")
    args = parser.parse_args()
    from ghostwright.home import ghostwright_home

    result = asyncio.run(soak(args.minutes, ghostwright_home(), args.chars))
    after = [s for s in result["samples"] if s["t"] >= args.warmup * 60] or result["samples"]
    rows = [["metric", "after warm-up: first", "last", "max", "slope per hour"]]
    slopes = {}
    for key in ("rss_mb", "kv_resident_mb", "rss_without_kv_mb", "fds", "threads"):
        slopes[key] = slope_per_hour([(s["t"], s[key]) for s in after])
        values = [s[key] for s in after]
        rows.append([key, f"{values[0]:.1f}", f"{values[-1]:.1f}", f"{max(values):.1f}", f"{slopes[key]:+.2f}"])
    print(f"{args.minutes:g} minutes ({args.warmup:g} of warm-up), {len(result['samples'])} samples")
    print(table(rows))
    print(f"KV cache pages are bounded by {after[-1]['kv_bound_mb']:.0f} MB (every slot of every tier full)")
    print(" ".join(f"{k}={v}" for k, v in result["counts"].items()),
          f"inline p50 {result['latency_p50_ms']:.0f} ms, p95 {result['latency_p95_ms']:.0f} ms (answered requests)")
    for problem in result["problems"]:
        print(problem)
    save("soak", {"minutes": args.minutes, "warmup_minutes": args.warmup, "chars": args.chars,
                  "slopes_per_hour": slopes, **result})


if __name__ == "__main__":
    main()
