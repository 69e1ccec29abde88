"""Cross-file line completion on a real package, CrossCodeEval-style: Ghostwright vs llama.cpp.

The package is watchdog (a dependency, Apache-2.0: code that no one here wrote); ``--package
starlette`` (BSD-3-Clause, also installed) is the second one, kept for confirming a prompt change
that was developed on watchdog's holes. A hole is one
line in a function body that uses a name defined in *another* module of the package; the line is
blanked out, the cursor put after its indentation, and the first line of the completion compared
with the original (exact match, and difflib's similarity ratio).

- Ghostwright: the real ``ghostwright serve`` on the default profile, the package as its
  workspace (so the index can find the other module's definition), asked by
  ``textDocument/inlineCompletion`` as an editor would: fill-in-the-middle with repository-level
  context, as the server builds it.
- llama.cpp (llama-cpp-python, same GGUF, greedy): the file up to the cursor, trimmed to the
  same token budget (1024), stopping at the end of the line: prefix-only, what a plain
  completion endpoint gets.

    python bench/cross_file.py --peer-python /opt/peer-venv/bin/python [--holes 60] [--package starlette]

Greedy, one answer per hole: exact match is pass@1, not best-of-N.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import difflib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import default_model, median, save, table

BUDGET_TOKENS = 1024  # the server's default prompt budget; the peer's prompt is trimmed to it
SIMPLE = (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Return, ast.Expr, ast.Raise)


PACKAGES = ("watchdog", "starlette")  # installed with the project; neither written here


def package_root(name: str = "watchdog") -> Path:
    import importlib

    return Path(importlib.import_module(name).__file__).resolve().parent


def package_imports(tree: ast.Module, package: str) -> set[str]:
    """Names this module imports from its own package (``from watchdog.events import FileCreatedEvent``)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.level > 0 or (node.module or "").startswith(package)):
            names.update(a.asname or a.name for a in node.names if a.name != "*")
    return names


def find_holes(root: Path, count: int) -> list[dict]:
    """Deterministic holes: one-line statements in function bodies that use a name the module
    imports from another module of the package (the definition is in another file)."""
    holes = []
    for path in sorted(root.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source)
        imported = package_imports(tree, root.name)
        lines = source.split("\n")
        for func in ast.walk(tree):
            if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(func):
                if not isinstance(node, SIMPLE) or node.lineno != node.end_lineno or node is func.body[0]:
                    continue
                used = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
                line = lines[node.lineno - 1]
                if used & imported and 10 <= len(line.strip()) <= 100 \
                        and line.strip() == ast.get_source_segment(source, node):
                    holes.append({"path": str(path.relative_to(root)), "line": node.lineno - 1,
                                  "target": line.strip(), "indent": line[: len(line) - len(line.lstrip())]})
    holes = sorted({(h["path"], h["line"]): h for h in holes}.values(), key=lambda h: (h["path"], h["line"]))
    step = max(1, len(holes) // count)
    return holes[::step][:count]


def typed_word(holes: list[dict]) -> list[dict]:
    """The same holes with the line's first word already typed: the cursor ends a line that has
    text on it (where a model may get the suffix), not one that is only indentation."""
    typed = []
    for hole in holes:
        word = re.match(r"\w+", hole["target"])
        if word and word.end() < len(hole["target"]):
            typed.append({**hole, "typed": word.group(0)})
    return typed


def with_hole(text: str, hole: dict) -> tuple[str, str]:
    """(the document with the hole's line blanked to its indentation and what is typed of it, the
    prefix up to the cursor)."""
    lines = text.split("\n")
    lines[hole["line"]] = hole["indent"] + hole.get("typed", "")
    document = "\n".join(lines)
    prefix = "\n".join(lines[: hole["line"]]) + "\n" + lines[hole["line"]]
    return document, prefix


def score(prediction: str, target: str, typed: str = "") -> tuple[bool, float]:
    first = prediction.split("\n")[0] if typed else prediction.strip().split("\n")[0]
    first = (typed + first).strip() if prediction.strip() or typed else ""
    return first == target, difflib.SequenceMatcher(None, first, target).ratio()


async def ours(root: Path, holes: list[dict], home: Path) -> list[dict]:
    from lsprotocol import types
    from pytest_lsp import ClientServerConfig, client_capabilities

    from ghostwright.export.models import pull_profile

    tiers = pull_profile()
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "models").exists():
        (home / "models").symlink_to(tiers["full"].parent.parent, target_is_directory=True)
    env = {**os.environ, "GHOSTWRIGHT_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    client = await ClientServerConfig(server_command=[sys.executable, "-m", "ghostwright.cli", "serve"],
                                      server_env=env).start()
    caps = client_capabilities("visual-studio-code")
    caps.text_document.inline_completion = types.InlineCompletionClientCapabilities()
    await client.initialize_session(types.InitializeParams(
        capabilities=caps, root_uri=root.as_uri(),
        initialization_options={"debounceMs": 0, "deadlineMs": 60000, "tier": "full"}))
    for _ in range(600):  # the model loaded and the workspace indexed, as in a long-lived session
        status = await client.workspace_execute_command_async(types.ExecuteCommandParams("ghostwright.status"))
        if status["loaded"] and status.get("indexScanned"):
            break
        await asyncio.sleep(0.2)
    records = []
    for number, hole in enumerate(holes):
        path = root / hole["path"]
        document, _ = with_hole(path.read_text(encoding="utf-8"), hole)
        uri = path.as_uri()
        client.text_document_did_open(types.DidOpenTextDocumentParams(
            types.TextDocumentItem(uri, "python", 1, document)))
        started = time.monotonic()
        result = await client.text_document_inline_completion_async(types.InlineCompletionParams(
            context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Invoked),
            text_document=types.TextDocumentIdentifier(uri),
            position=types.Position(hole["line"], len(hole["indent"]) + len(hole.get("typed", "")))))
        seconds = time.monotonic() - started
        client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri)))
        text = result.items[0].insert_text if result and result.items else ""
        text = text if isinstance(text, str) else text.value
        exact, similarity = score(text, hole["target"], hole.get("typed", ""))
        records.append({**hole, "prediction": text, "exact": exact, "similarity": similarity, "seconds": seconds})
        print(f"ours {number + 1}/{len(holes)} {hole['path']}:{hole['line'] + 1} exact={exact} {seconds:.1f}s",
              file=sys.stderr, flush=True)
    await client.shutdown_session()
    await client.stop()
    return records


def peer_worker(args: argparse.Namespace) -> None:
    """In the peer's Python (llama_cpp, no Ghostwright): prefix-only completions of every hole."""
    from llama_cpp import Llama

    job = json.loads(Path(args.job).read_text(encoding="utf-8"))
    llm = Llama(model_path=args.gguf, n_ctx=2048, n_threads=args.threads, n_threads_batch=args.threads,
                verbose=False)
    out = []
    for hole in job["holes"]:
        ids = llm.tokenize(hole["prefix"].encode(), add_bos=False, special=False)[-BUDGET_TOKENS:]
        started = time.monotonic()
        done = llm.create_completion(ids, max_tokens=48, temperature=0.0, top_k=1, stop=["\n"])
        out.append({"prediction": done["choices"][0]["text"], "seconds": time.monotonic() - started})
        llm.reset()
    print(json.dumps(out))


def summary(records: list[dict]) -> dict:
    return {"holes": len(records), "exact": sum(r["exact"] for r in records),
            "similarity_mean": sum(r["similarity"] for r in records) / len(records),
            "seconds_median": median([r["seconds"] for r in records])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peer-python", help="a python with llama-cpp-python installed")
    parser.add_argument("--peer-from", type=Path,
                        help="reuse llama.cpp's answers from an earlier results file of the very same holes (greedy "
                             "on identical prompts: its exact matches do not change; its seconds are that run's)")
    parser.add_argument("--holes", type=int, default=60)
    parser.add_argument("--package", choices=PACKAGES, default="watchdog")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--typed-word", action="store_true",
                        help="the line's first word already typed: the cursor ends a line with text on it")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--gguf", help=argparse.SUPPRESS)
    parser.add_argument("--job", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        peer_worker(args)
        return
    work = Path(tempfile.mkdtemp(prefix="gw-cross-file-"))
    root = work / args.package
    shutil.copytree(package_root(args.package), root, ignore=shutil.ignore_patterns("__pycache__"))
    holes = find_holes(root, args.holes)
    if args.typed_word:
        holes = typed_word(holes)
    from importlib.metadata import version

    results = {"package": args.package, "version": version(args.package), "holes": holes}
    records = asyncio.run(ours(root, holes, work / "home"))
    results["ours"] = {"summary": summary(records), "records": records}
    rows = [["engine", "exact match", "edit similarity (mean)", "s/hole (median)"]]
    s = results["ours"]["summary"]
    rows.append(["ghostwright serve (repo context; FIM mid-line)", f"{s['exact']}/{s['holes']}",
                 f"{s['similarity_mean']:.3f}", f"{s['seconds_median']:.2f}"])
    if args.peer_from:
        earlier = json.loads(args.peer_from.read_text())
        if earlier.get("holes") != holes or "llama.cpp" not in earlier:
            raise SystemExit(f"{args.peer_from} has no llama.cpp answers for these very holes: run the peer")
        results["llama.cpp"] = {**earlier["llama.cpp"], "reused_from": earlier.get("version")}
        p = results["llama.cpp"]["summary"]
        rows.append(["llama.cpp prefix-only (reused answers)", f"{p['exact']}/{p['holes']}",
                     f"{p['similarity_mean']:.3f}", f"{p['seconds_median']:.2f}"])
        results["exact_ratio"] = s["exact"] / p["exact"] if p["exact"] else float("inf")
    elif args.peer_python:
        _, gguf = default_model()
        job = work / "job.json"
        job.write_text(json.dumps({"holes": [{**h, "prefix": with_hole((root / h["path"]).read_text(), h)[1]}
                                             for h in holes]}))
        done = subprocess.run([args.peer_python, __file__, "--worker", "--gguf", str(gguf), "--job", str(job),
                               "--threads", str(args.threads)], capture_output=True, text=True, timeout=3600)
        if done.returncode != 0:
            raise SystemExit(f"the peer failed:\n{done.stderr[-3000:]}")
        peer = []
        for hole, answer in zip(holes, json.loads(done.stdout.strip().splitlines()[-1]), strict=True):
            exact, similarity = score(answer["prediction"], hole["target"], hole.get("typed", ""))
            peer.append({**hole, **answer, "exact": exact, "similarity": similarity})
        results["llama.cpp"] = {"summary": summary(peer), "records": peer}
        p = results["llama.cpp"]["summary"]
        rows.append([f"llama.cpp prefix-only ({gguf.name})", f"{p['exact']}/{p['holes']}",
                     f"{p['similarity_mean']:.3f}", f"{p['seconds_median']:.2f}"])
        results["exact_ratio"] = s["exact"] / p["exact"] if p["exact"] else float("inf")
    print(f"cross-file line completion, {len(holes)} holes in {args.package}, greedy, first line compared")
    print(table(rows))
    if "exact_ratio" in results:
        print(f"exact-match ratio ours / llama.cpp prefix-only: {results['exact_ratio']:.2f} (target >= 1.5)")
    save(("cross_file" if args.package == "watchdog" else f"cross_file_{args.package}")
         + ("_typed_word" if args.typed_word else ""), results)


if __name__ == "__main__":
    main()
