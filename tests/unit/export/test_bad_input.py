"""Bad sources fail with one clear error naming the file, and leave nothing half-written."""

from __future__ import annotations

import json
import shutil

import pytest

from ghostwright.errors import ModelSourceError, UnsupportedModelError
from ghostwright.export.bundle import export_variant, read_source
from support.tiny_model import TinySpec


def test_truncated_gguf(tiny_sources, tmp_path):
    good = tiny_sources(TinySpec(), "gguf:F32")
    bad = tmp_path / "cut.gguf"
    bad.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(ModelSourceError, match=r"cut\.gguf.*truncated"):
        read_source(bad)


def test_not_a_gguf_file(tmp_path):
    bad = tmp_path / "model.gguf"
    bad.write_bytes(b"PK\x03\x04 this is a zip, not a model")
    with pytest.raises(ModelSourceError, match="not a GGUF file"):
        read_source(bad)


def test_corrupt_gguf_header(tiny_sources, tmp_path):
    data = bytearray(tiny_sources(TinySpec(), "gguf:F32").read_bytes())
    data[8:16] = b"\xff" * 8  # tensor count: absurd
    bad = tmp_path / "corrupt.gguf"
    bad.write_bytes(bytes(data))
    with pytest.raises(ModelSourceError, match=r"corrupt\.gguf"):
        read_source(bad)


def test_safetensors_folder_missing_a_tensor(tiny_sources, tmp_path):
    from ghostwright.export.safetensors_file import SafetensorsFile, write_safetensors

    folder = tmp_path / "hf"
    shutil.copytree(tiny_sources(TinySpec(), "hf"), folder)
    st = SafetensorsFile(folder / "model.safetensors")
    tensors = {n: st.load(n) for n in st.names() if n != "model.layers.1.mlp.up_proj.weight"}
    write_safetensors(folder / "model.safetensors", tensors)
    with pytest.raises(ModelSourceError, match=r"missing tensors for layers\.1\.up"):
        read_source(folder)


def test_tokenizer_larger_than_embedding(tiny_sources, tmp_path):
    from tokenizers import Tokenizer

    folder = tmp_path / "hf"
    shutil.copytree(tiny_sources(TinySpec(), "hf"), folder)
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.add_tokens([f"<extra_{i}>" for i in range(50)])
    tokenizer.save(str(folder / "tokenizer.json"))
    source = read_source(folder)
    (tmp_path / "out").mkdir()
    with pytest.raises(ModelSourceError, match=r"tokenizer\.json.*tokenizer has \d+ tokens but the embedding has"):
        export_variant(source, "fp32", tmp_path / "out" / "fp32")
    assert list((tmp_path / "out").iterdir()) == []  # no bundle, no temp directory left behind


def test_config_vocab_disagrees_with_embedding(tiny_sources, tmp_path):
    folder = tmp_path / "hf"
    shutil.copytree(tiny_sources(TinySpec(), "hf"), folder)
    config = json.loads((folder / "config.json").read_text())
    config["vocab_size"] -= 50
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelSourceError, match=r"config\.json: vocab_size is \d+ but model.embed_tokens.weight has"):
        read_source(folder)


def test_unsupported_architecture(tiny_sources, tmp_path):
    folder = tmp_path / "hf"
    shutil.copytree(tiny_sources(TinySpec(), "hf"), folder)
    config = json.loads((folder / "config.json").read_text())
    config["model_type"] = "gpt_neox"
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(UnsupportedModelError, match="unsupported architecture 'gpt_neox'"):
        read_source(folder)


def test_failed_export_keeps_the_previous_bundle(tiny_sources, tmp_path):
    source = read_source(tiny_sources(TinySpec(), "hf"))
    out = export_variant(source, "fp32", tmp_path / "m" / "fp32")
    before = (out / "manifest.json").read_text()

    def broken(name: str):
        raise ModelSourceError("disk read failed")

    source.load_tensor = broken
    with pytest.raises(ModelSourceError):
        export_variant(source, "fp32", out)
    assert (out / "manifest.json").read_text() == before
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["fp32"]


def test_bundles_from_an_older_exporter_revision_are_re_exported(tiny_sources, monkeypatch, tmp_path):
    from ghostwright.export import contract, models

    monkeypatch.setenv("GHOSTWRIGHT_HOME", str(tmp_path))
    source_path = tiny_sources(TinySpec(), "hf")
    [out] = models.export_model(source_path, "tiny", ("fp32",))
    first = (out / "manifest.json").stat().st_mtime_ns
    models.export_model(source_path, "tiny", ("fp32",))
    assert (out / "manifest.json").stat().st_mtime_ns == first  # up to date: untouched
    monkeypatch.setattr(contract, "EXPORT_REVISION", contract.EXPORT_REVISION + 1)
    models.export_model(source_path, "tiny", ("fp32",))
    assert (out / "manifest.json").stat().st_mtime_ns != first
