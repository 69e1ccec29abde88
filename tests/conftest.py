"""Shared fixtures: tiny random-weight models built and exported by the real code path,
and the real default model (exported once, cached under GHOSTWRIGHT_HOME)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from support.tiny_model import TinySpec, train_tokenizer, write_gguf, write_hf_folder


@pytest.fixture(scope="session")
def tiny_tokenizer():
    return train_tokenizer()


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory, tiny_tokenizer) -> Path:
    """A model directory with fp32 and int4 bundles of a tiny Llama (two tiers)."""
    from ghostwright.export.bundle import export_variant, read_source

    root = tmp_path_factory.mktemp("tiny")
    source = read_source(write_hf_folder(root / "hf", TinySpec(max_positions=1024), tiny_tokenizer))
    for variant in ("fp32", "int4"):
        export_variant(source, variant, root / "model" / variant, name="tiny")
    return root / "model"


@pytest.fixture(scope="session")
def tiny_sources(tmp_path_factory: pytest.TempPathFactory, tiny_tokenizer):
    """Factory: (spec, kind) -> path of an HF folder or GGUF file with those weights."""
    root = tmp_path_factory.mktemp("sources")
    made: dict[tuple, Path] = {}

    def make(spec: TinySpec, kind: str) -> Path:
        key = (repr(spec), kind)
        if key not in made:
            stem = f"{spec.architecture}-{len(made)}"
            if kind == "hf":
                made[key] = write_hf_folder(root / stem, spec, tiny_tokenizer)
            else:
                made[key] = write_gguf(root / f"{stem}.gguf", spec, tiny_tokenizer, qtype=kind.split(":")[1])
        return made[key]

    return make


@pytest.fixture(scope="session")
def default_model_dir() -> Path:
    """The real SmolLM2 default model, pulled and exported once (cached across runs)."""
    from ghostwright.export.models import pull_default
    from ghostwright.home import DEFAULT_MODEL, models_dir

    pull_default()
    return models_dir() / DEFAULT_MODEL


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("GHOSTWRIGHT_HOME", str(Path.home() / ".cache" / "ghostwright"))
