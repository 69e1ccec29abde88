"""Per-action latency of the code actions through the real server over stdio, with the default model.

Each action runs ``--repeats`` times on a small file after the model has loaded; the time is
what the editor waits: from ``codeAction/resolve`` (or the rewrite command) sent to the answer
received. Results go to bench/results/action_latency.json and a table is printed.

    python bench/action_latency.py --repeats 2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Union

from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, median, table

SOURCE = '''def add(a, b):
    """Return the sum of a and b.

    >>> add(2, 3)
    5
    """


def area(width, height):
    return width * height


def greet(name):
    print 'hello', name
'''
PRINT_FIX = types.Diagnostic(range=types.Range(types.Position(13, 4), types.Position(13, 23)),
                             message="Missing parentheses in call to 'print'. Did you mean print(...)?",
                             source="python")


async def start(root: Path) -> LanguageClient:
    config = ClientServerConfig(server_command=[sys.executable, "-m", "ghostwright.cli", "serve"],
                                server_env={**os.environ, "PYTHONUNBUFFERED": "1"})
    client = await config.start()
    converter = client.protocol._converter  # lsprotocol reads a code action with a command as a Command
    converter.register_structure_hook(
        Union[types.Command, types.CodeAction],  # noqa: UP007 - the exact type lsprotocol registered
        lambda obj, _: converter.structure(obj, types.Command if isinstance(obj.get("command"), str)
                                           else types.CodeAction))

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        return types.ApplyWorkspaceEditResult(applied=True)

    await client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"), root_uri=root.as_uri(),
        initialization_options={"debounceMs": 0}))
    for _ in range(600):  # the model loads in the background: time the actions, not the load
        status = await client.workspace_execute_command_async(types.ExecuteCommandParams("ghostwright.status"))
        if status.get("loaded") or status.get("error"):
            break
        await asyncio.sleep(0.5)
    return client


async def actions(client: LanguageClient, uri: str, start: tuple[int, int], end: tuple[int, int] | None = None,
                  diagnostics: list[types.Diagnostic] | None = None) -> list[types.CodeAction]:
    end = end or start
    found = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri),
        range=types.Range(types.Position(*start), types.Position(*end)),
        context=types.CodeActionContext(diagnostics=diagnostics or [])))
    return [a for a in found or [] if isinstance(a, types.CodeAction)]


async def time_action(client: LanguageClient, uri: str, title: str, where: tuple[int, int],
                      end: tuple[int, int] | None = None, diagnostics: list[types.Diagnostic] | None = None
                      ) -> tuple[float, str]:
    offered = await actions(client, uri, where, end, diagnostics)
    action = next(a for a in offered if a.title.startswith(title))
    started = time.monotonic()
    if action.command is not None:
        answer = await client.workspace_execute_command_async(types.ExecuteCommandParams(
            action.command.command, [{**action.command.arguments[0], "instruction": "use an f-string"}]))
        return time.monotonic() - started, answer.get("message", "")
    resolved = await client.code_action_resolve_async(action)
    result = (resolved.data or {}).get("result", {})
    return time.monotonic() - started, ("" if result.get("applied") else "FAILED: ") + result.get("message", "")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    plan = [("Implement from docstring", "Implement add", (0, 4), None, None),
            ("Add docstring", "Add a docstring to area", (8, 4), None, None),
            ("Add type annotations", "Add type annotations to area", (8, 4), None, None),
            ("Generate unit tests", "Generate unit tests for area", (8, 4), None, None),
            ("Rewrite selection", "Rewrite the selection", (12, 0), (13, 23), None),
            ("Fix this diagnostic", "Fix: Missing parentheses", (13, 4), None, [PRINT_FIX])]
    rows = [["action", "runs", "median s", "runs (s)", "last result"]]
    report: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="ghostwright-latency-") as tmp:
        root = Path(tmp)
        module = root / "small.py"
        module.write_text(SOURCE)
        client = await start(root)
        try:
            version = 1
            client.text_document_did_open(types.DidOpenTextDocumentParams(
                types.TextDocumentItem(uri=module.as_uri(), language_id="python", version=version, text=SOURCE)))
            for name, title, where, end, diagnostics in plan:
                times, message = [], ""
                for _ in range(args.repeats):
                    seconds, message = await time_action(client, module.as_uri(), title, where, end, diagnostics)
                    times.append(seconds)
                    # edits are not applied here: the document stays the same for every run
                report[name] = {"seconds": [round(t, 2) for t in times], "median_s": round(median(times), 2),
                                "last_message": message}
                rows.append([name, str(len(times)), f"{median(times):.1f}", ", ".join(f"{t:.1f}" for t in times),
                             message[:70]])
                print(f"{name}: {', '.join(f'{t:.1f}' for t in times)} s  {message}", flush=True)
        finally:
            await client.shutdown_session()
            await client.stop()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "action_latency.json").write_text(json.dumps({"repeats": args.repeats, "actions": report}, indent=2)
                                                 + "\n")
    print()
    print(table(rows))


if __name__ == "__main__":
    asyncio.run(main())
