"""`ghostwright tune` end to end on a tiny random-weight model and a generated repository: the real
command, the real trainer (torch + peft), the real exporter and engine; only the model is small."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from support.tiny_model import FIM_SPECIALS, SPECIALS, TinySpec, train_tokenizer, write_gguf

pytest.importorskip("torch", reason="the tune extra (pip install 'ghostwright[tune]') is not installed")
pytest.importorskip("peft", reason="the tune extra (pip install 'ghostwright[tune]') is not installed")

SECRET = "ghp_" + "Zq8vR2mN4kT7wX1yB5cD9eF3gH6jK0lP2sU4"  # a GitHub token's shape: detect-secrets knows it
WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo", "lima"]


def write_repository(root: Path) -> dict[str, str]:
    """Twelve modules in one house style, each defining a helper (whose docstring holds a marker
    only that file has) that the next module calls, so a prompt's cross-file definitions would
    carry a held-out file's marker if the index saw it; a secret in one module; and files the
    tuner must skip: ignored, vendored, a secret file."""
    markers = {}
    for i, word in enumerate(WORDS):
        marker, callee = f"marker_{word}_{i}", WORDS[(i + 1) % len(WORDS)]
        markers[f"pkg/{word}.py"] = marker
        helper = f'def helper_{word}(value):\n    """{marker}: the {word} helper."""\n    return value\n\n\n'
        body = "".join(f"def handle_{word}_{k}(request):\n    payload = helper_{callee}(request.json())\n"
                       f"    return respond(payload, status={200 + k})\n\n\n" for k in range(4))
        extra = f'TOKEN = "{SECRET}"\n' if word == "delta" else ""
        (root / "pkg").mkdir(parents=True, exist_ok=True)
        (root / f"pkg/{word}.py").write_text(f'"""The {word} handlers."""\n{extra}\n\n{helper}{body}')
    (root / ".gitignore").write_text("ignored/\n")
    (root / "ignored").mkdir()
    (root / "ignored/skip.py").write_text("ignored_marker = 1\n" * 5)
    (root / "vendor").mkdir()
    (root / "vendor/lib.py").write_text("vendored_marker = 1\n" * 5)
    (root / ".env").write_text(f"GITHUB_TOKEN={SECRET}\n")
    return markers


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A model store holding a tiny Qwen2 with Qwen2.5-Coder's FIM and repository tokens."""
    from ghostwright.export.models import export_model

    monkeypatch.setenv("GHOSTWRIGHT_HOME", str(tmp_path / "home"))
    tokenizer = train_tokenizer(vocab_size=600, specials=[*SPECIALS, *FIM_SPECIALS])
    gguf = write_gguf(tmp_path / "tiny-qwen.gguf", TinySpec(architecture="qwen2", max_positions=1024, tie=False,
                                                            seed=5), tokenizer)
    export_model(gguf, "tiny-qwen", ("int8",))
    return tmp_path


def test_examples_hold_no_secret_and_no_held_out_line(store: Path) -> None:
    from ghostwright.inference.manifest import read_manifest
    from ghostwright.inference.prompt_format import format_for
    from ghostwright.inference.tokenization import TextTokenizer
    from ghostwright.tune.corpus import read_corpus
    from ghostwright.tune.examples import ExampleBuilder
    from ghostwright.tune.run import base_bundle, files_index

    markers = write_repository(store / "repo")
    corpus = read_corpus(store / "repo", holdout=0.2)
    assert {f.relative for f in corpus.train} | {f.relative for f in corpus.held_out} == set(markers)
    assert corpus.held_out and not {f.relative for f in corpus.train} & {f.relative for f in corpus.held_out}
    manifest = read_manifest(base_bundle("tiny-qwen"))
    tokenizer = TextTokenizer(manifest.tokenizer_path, manifest.config.vocab_size, None, False)
    index = files_index(corpus.root, [f.relative for f in corpus.train])  # what tune indexes for training
    builder = ExampleBuilder(corpus.root, format_for(manifest), tokenizer, manifest.eos_ids[0], 1024, index=index)
    texts = [tokenizer._tok.decode(e.ids + e.targets[-1:], skip_special_tokens=False)
             for e in builder.training_set(corpus.train)]
    seen = "\n".join(texts)
    assert "fim_middle" in seen  # FIM examples, in the model's own format
    assert any(t.count("<|file_sep|>") >= 2 for t in texts)  # another file's definitions reach some prompts
    assert all(markers[f.relative] in seen for f in corpus.train)
    assert not any(markers[f.relative] in seen for f in corpus.held_out)
    assert SECRET not in seen and "ignored_marker" not in seen and "vendored_marker" not in seen


def test_tune_trains_merges_exports_and_serves(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from ghostwright.cli import main
    from ghostwright.engine_source import resolve
    from ghostwright.errors import EngineError
    from ghostwright.export.tuned_source import read_tuned_source
    from ghostwright.home import models_dir
    from ghostwright.inference import GenerationRequest, Prompt, load_engine

    write_repository(store / "repo")
    argv = ["tune", str(store / "repo"), "--base", "tiny-qwen", "--name", "tiny-tuned", "--minutes", "0.5",
            "--context", "256", "--learning-rate", "3e-3", "--eval-every", "10", "--epochs", "3", "--holes", "8",
            "--variants", "int8,fp32", "--json"]
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    history = result["training"]["history"]
    assert result["training"]["best_loss"] < history[0]["held_out_loss"] * 0.9, history  # it learned the style
    assert result["parity"]["weights_max_abs"] < 1e-5 and result["parity"]["logits_max_abs"] < 1e-3
    assert result["verified"]["fp32"]["max_abs_diff"] < 1e-3 and result["verified"]["fp32"]["top1_agree"]
    assert result["verified"]["int8"]["max_abs_diff"] < 0.5  # a tiny random model's int8 rounding
    assert result["uplift"]["holes"] == 8
    assert set(result["uplift_by_variant"]) == {"int8", "fp32"}  # each exported variant re-measured
    assert result["uplift_by_variant"]["fp32"]["base_variant"] == "int8"  # the base has no fp32: said so
    answered = result["uplift_by_variant"]["int8"]["answers"]  # each hole's line and both answers, to read
    assert len(answered) == 8 and all({"path", "line", "target", "base", "tuned"} <= set(a) for a in answered)
    peaks = result["peak_rss_by_phase_mb"]
    assert list(peaks) == ["examples", "training", "merge check", "export", "scoring"]
    assert all(p > 0 for p in peaks.values()) and result["peak_rss_mb"] == max(peaks.values())

    tuned = read_tuned_source(models_dir() / "tiny-tuned" / "source")
    assert tuned.provenance["kind"] == "tuned"
    assert result["parity"]["top1_agree"] is True
    # Served as the full tier of a profile spelled out, with its base as the mini tier.
    tiers = resolve("full=tiny-tuned,mini=tiny-qwen/int8")
    assert tiers == {"full": models_dir() / "tiny-tuned" / "int8", "mini": models_dir() / "tiny-qwen" / "int8"}
    engine = load_engine(tiers, device="cpu", warm_up=False)
    try:
        chunks = list(engine.generate(GenerationRequest(prompt=Prompt.text("def handle_"), max_tokens=5,
                                                        tier="full")))
    finally:
        engine.close()
    assert chunks[-1].done and chunks[-1].error is None and chunks[-1].stats.generated_tokens >= 1
    assert chunks[-1].stats.tier == "full"
    with pytest.raises(EngineError, match="int4"):
        resolve("full=tiny-tuned/int4")

    assert main(["model", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert any(m["name"] == "tiny-tuned" and m["variant"] == "int8" for m in listed["models"])

    # A second run with the same data and settings resumes where the first stopped.
    assert main(argv) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["training"]["step"] >= result["training"]["step"]
    assert np.isfinite(again["training"]["best_loss"])


def test_tune_without_the_extra_says_what_to_install(monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    from ghostwright.cli import main

    monkeypatch.setitem(__import__("sys").modules, "peft", None)  # as if the extra were not installed
    assert main(["tune", ".", "--name", "x"]) == 2
    assert "pip install 'ghostwright[tune]'" in capsys.readouterr().err


def test_ctrl_c_keeps_the_best_adapter_and_the_same_command_resumes(store: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    from ghostwright.home import models_dir

    write_repository(store / "repo")
    command = [sys.executable, "-m", "ghostwright.cli", "tune", str(store / "repo"), "--base", "tiny-qwen", "--name",
               "tiny-ctrl-c", "--minutes", "5", "--context", "256", "--eval-every", "5", "--epochs", "50",
               "--holes", "4"]
    checkpoints = models_dir() / "tiny-ctrl-c" / "tune"
    # A shell's background job ignores SIGINT, and a child inherits that: give it Python's handler back.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        run = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    finally:
        signal.signal(signal.SIGINT, previous)
    deadline = time.monotonic() + 120
    while not (checkpoints / "state.json").is_file() and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.2)
    run.send_signal(signal.SIGINT)
    _, err = run.communicate(timeout=60)
    assert run.returncode == 130, err
    assert "the best adapter" in err and (checkpoints / "best.pt").is_file()
    stopped_at = json.loads((checkpoints / "state.json").read_text())["progress"]["step"]
    assert stopped_at >= 5
    assert not (models_dir() / "tiny-ctrl-c" / "int8").exists()  # nothing exported from an interrupted run

    minutes = command.index("--minutes") + 1
    again = subprocess.run([*command[:minutes], "0.1", *command[minutes + 1:]], capture_output=True, text=True,
                           timeout=300)
    assert again.returncode == 0, again.stderr
    assert f"resuming at step {stopped_at}" in again.stderr
    assert (models_dir() / "tiny-ctrl-c" / "int8" / "manifest.json").is_file()
