"""Shared fixtures: tiny random-weight models built and exported by the real code path,
and the real default model (exported once, cached under GHOSTWRIGHT_HOME)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from support.tiny_model import FIM_SPECIALS, SPECIALS, TinySpec, train_tokenizer, write_gguf, write_hf_folder


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
def tiny_qwen_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An int8 bundle of a tiny Qwen2 GGUF whose vocabulary has Qwen2.5-Coder's FIM and repository
    tokens (and, like the real file, no fim_* keys), exported by the real code path."""
    from ghostwright.export.bundle import export_variant, read_source

    root = tmp_path_factory.mktemp("tiny-qwen")
    tokenizer = train_tokenizer(specials=[*SPECIALS, *FIM_SPECIALS])
    spec = TinySpec(architecture="qwen2", max_positions=1024, tie=False, seed=3)
    source = read_source(write_gguf(root / "tiny-qwen.gguf", spec, tokenizer))
    return export_variant(source, "int8", root / "model" / "int8", name="tiny-qwen")


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
def default_profile() -> str:
    """The real default profile (Qwen2.5-Coder-0.5B w8a8 full tier, SmolLM2-135M int4 mini tier),
    pulled and exported once (cached under GHOSTWRIGHT_HOME across runs); servers take its name."""
    from ghostwright.export.catalogue import DEFAULT_PROFILE
    from ghostwright.export.models import pull_profile

    pull_profile(DEFAULT_PROFILE)
    return DEFAULT_PROFILE


@pytest.fixture(scope="session")
def smollm2_dir() -> Path:
    """SmolLM2-135M with every variant (fp32 proves the graph against the numpy reference)."""
    from ghostwright.export.catalogue import SMOLLM2
    from ghostwright.export.models import pull_model
    from ghostwright.home import models_dir

    pull_model(SMOLLM2.name, ("fp32", "fp16", "int8", "w8a8", "int4"))
    return models_dir() / SMOLLM2.name


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("GHOSTWRIGHT_HOME", str(Path.home() / ".cache" / "ghostwright"))
