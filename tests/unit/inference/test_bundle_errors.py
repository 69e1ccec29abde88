"""A broken bundle is refused with a message naming the file and the problem."""

from __future__ import annotations

import json
import shutil

import pytest

from ghostwright.errors import BundleError, EngineError
from ghostwright.inference import load_engine


@pytest.fixture
def bundle(tiny_model_dir, tmp_path):
    copy = tmp_path / "fp32"
    shutil.copytree(tiny_model_dir / "fp32", copy)
    return copy


def edit_manifest(bundle, **changes):
    path = bundle / "manifest.json"
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data))


def test_newer_manifest_version(bundle):
    edit_manifest(bundle, format_version=99)
    with pytest.raises(BundleError, match=r"format version 99.*upgrade ghostwright"):
        load_engine(bundle, device="cpu")


def test_not_json(bundle):
    (bundle / "manifest.json").write_text("{oops")
    with pytest.raises(BundleError, match=r"manifest\.json: not valid JSON"):
        load_engine(bundle, device="cpu")


def test_truncated_weights(bundle):
    data = bundle / "model.onnx.data"
    data.write_bytes(data.read_bytes()[:1000])
    with pytest.raises(BundleError, match=r"model\.onnx\.data: 1000 bytes, the manifest says"):
        load_engine(bundle, device="cpu")


def test_missing_tokenizer(bundle):
    (bundle / "tokenizer.json").unlink()
    with pytest.raises(BundleError, match=r"tokenizer\.json: missing from the bundle"):
        load_engine(bundle, device="cpu")


def test_corrupt_graph(bundle):
    graph = bundle / "model.onnx"
    graph.write_bytes(b"\x00garbage" * (graph.stat().st_size // 8))
    edit_manifest(bundle, files={**json.loads((bundle / "manifest.json").read_text())["files"],
                                 "model.onnx": {"bytes": graph.stat().st_size, "sha256": "x"}})
    with pytest.raises(EngineError, match=r"model\.onnx: onnxruntime could not load the model"):
        load_engine(bundle, device="cpu")


def test_not_a_bundle(tmp_path):
    with pytest.raises(BundleError, match="no model bundle here"):
        load_engine(tmp_path, device="cpu")


def test_model_that_does_not_fit(bundle, monkeypatch):
    from ghostwright.inference import loader

    monkeypatch.setattr(loader, "_available_memory", lambda: 64 * 2**10)  # a machine with 64 KiB free
    with pytest.raises(EngineError, match=r"only 0\.0 GiB of memory is available"):
        load_engine(bundle, device="cpu", cache_tokens=4096)
