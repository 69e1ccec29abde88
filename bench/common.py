"""Helpers shared by the benchmarks: real code to feed the models, medians, tables."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def real_code(chars: int = 60000) -> str:
    """Python that no one here wrote: the standard library's own modules."""
    import argparse
    import difflib
    import inspect

    text = "".join(Path(inspect.getfile(m)).read_text(encoding="utf-8") for m in (argparse, difflib, textwrap))
    return text[:chars]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def run_worker(python: str, script: Path, args: list[str], timeout: float = 1800) -> dict:
    """Run ``script --worker ...`` in a fresh process (so peak RSS is its own); parse its JSON line."""
    done = subprocess.run([python, str(script), *args], capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM). Not getrusage: Linux carries ru_maxrss over
    fork and exec, so a worker would report its parent's peak (an export's, say)."""
    with open("/proc/self/status", encoding="utf-8") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "-|-".join("-" * w for w in widths))
    return "\n".join(lines)


def save(name: str, payload: dict) -> Path:
    """Write a result, with the host it ran on: the lent machines change between days (AVX2 only,
    or AVX-512 with VNNI), and a ratio against llama.cpp depends on which."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({**payload, "host": host()}, indent=2) + "\n")
    return path


def host() -> dict[str, object]:
    """The CPU's name, how many cores this process may use, and the vector extensions speed hangs on."""
    name, flags = "", set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and not name:
                name = value.strip()
            elif key.strip() == "flags" and not flags:
                flags = set(value.split())
    except OSError:
        pass
    wanted = ("avx2", "fma", "f16c", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_int8", "amx_bf16")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"cpu": name, "cores": cores, "isa": [f for f in wanted if f in flags]}


__all__ = ["median", "peak_rss_mb", "real_code", "run_worker", "save", "sys", "table"]


def default_model(variants: tuple[str, ...] | None = None) -> tuple[Path, Path]:
    """The default profile's full-tier model (Qwen2.5-Coder-0.5B): the folder of its exported
    variants (``variants``, else the catalogue's) and the GGUF they came from, which the peer runs."""
    from ghostwright.export.catalogue import DEFAULT_PROFILE, PROFILES, shipped
    from ghostwright.export.models import pull_model
    from ghostwright.export.pull import fetch_gguf

    name = PROFILES[DEFAULT_PROFILE].full.model
    paths = pull_model(name, variants)
    return paths[0].parent, fetch_gguf(shipped(name))


def infill_text(prompt: dict, bundle: Path) -> str:
    """A traced InfillPrompt as the text a peer server is sent: rendered in the model's own format,
    its control tokens spelled out (llama.cpp parses them back from the prompt text)."""
    from ghostwright.inference.api import InfillPrompt, Snippet
    from ghostwright.inference.manifest import read_manifest
    from ghostwright.inference.prompt_format import format_for, render_infill
    from ghostwright.inference.tokenization import TextTokenizer

    manifest = read_manifest(bundle)
    tokenizer = TextTokenizer(manifest.tokenizer_path, manifest.config.vocab_size, None, False)
    snippets = tuple(Snippet(**s) for s in prompt.get("snippets", ()))
    rendered = render_infill(format_for(manifest), InfillPrompt(**{**prompt, "snippets": snippets}))
    return "".join(s if isinstance(s, str) else tokenizer.token_text(s) for s in rendered.segments)


def chat_text(messages: list[dict[str, str]], bundle: Path) -> str:
    """``messages`` through the model's own chat template, control tokens spelled out: the text a
    peer is given so that both engines read the very prompt Ghostwright's engine builds."""
    from ghostwright.inference.api import ChatPrompt
    from ghostwright.inference.manifest import read_manifest
    from ghostwright.inference.prompt_format import render_chat
    from ghostwright.inference.tokenization import TextTokenizer

    manifest = read_manifest(bundle)
    tokenizer = TextTokenizer(manifest.tokenizer_path, manifest.config.vocab_size, None, False)
    rendered = render_chat(manifest, tokenizer.special_ids(), ChatPrompt.of(messages))
    return "".join(s if isinstance(s, str) else tokenizer.token_text(s) for s in rendered.segments)
