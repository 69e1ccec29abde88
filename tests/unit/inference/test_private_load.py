"""The weights a session maps are a private copy: the bundle's files can change under it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import onnx

from ghostwright.inference.private_load import PREFIX, external_files, private_graph


def _bundle(tiny_model_dir: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "int4"
    shutil.copytree(tiny_model_dir / "int4", folder)
    return folder / "model.onnx"


def test_the_loaded_weights_are_a_copy_and_the_folder_is_gone_after(tiny_model_dir: Path, tmp_path: Path) -> None:
    graph = _bundle(tiny_model_dir, tmp_path)
    model = onnx.load(str(graph), load_external_data=False)
    names = external_files(model)
    assert names == ["model.onnx.data"]
    with private_graph(graph, model) as loaded:
        assert loaded != graph and loaded.parent.parent == graph.parent and loaded.parent.name.startswith(PREFIX)
        copy, shared = loaded.parent / names[0], graph.parent / names[0]
        assert copy.read_bytes() == shared.read_bytes()
        assert os.stat(copy).st_ino != os.stat(shared).st_ino  # not a hard link: truncating one spares the other
        os.truncate(shared, 10)
        assert copy.stat().st_size > 10
    assert not any(p.name.startswith(PREFIX) for p in graph.parent.iterdir())


def test_a_rewritten_graph_is_what_gets_loaded(tiny_model_dir: Path, tmp_path: Path) -> None:
    graph = _bundle(tiny_model_dir, tmp_path)
    model = onnx.load(str(graph), load_external_data=False)
    with private_graph(graph, model, b"rewritten") as loaded:
        assert loaded.read_bytes() == b"rewritten"
    assert graph.read_bytes() != b"rewritten"


def test_a_bundle_where_nothing_can_be_written_is_loaded_as_it_stands(tiny_model_dir: Path, tmp_path: Path,
                                                                       monkeypatch) -> None:
    """Root writes into a read-only folder, so the refusal the kernel gives other users is made here."""
    graph = _bundle(tiny_model_dir, tmp_path)
    model = onnx.load(str(graph), load_external_data=False)

    def refuse(*args: object, **kwargs: object) -> str:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkdtemp", refuse)
    with private_graph(graph, model) as loaded:
        assert loaded == graph


def test_folders_of_dead_processes_are_removed_and_live_ones_kept(tiny_model_dir: Path, tmp_path: Path) -> None:
    graph = _bundle(tiny_model_dir, tmp_path)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    abandoned = graph.parent / f"{PREFIX}{dead.stdout.strip()}-x"
    live = graph.parent / f"{PREFIX}{os.getppid()}-y"
    for folder in (abandoned, live):
        folder.mkdir()
        (folder / "model.onnx.data").write_bytes(b"0" * 100)
    with private_graph(graph, onnx.load(str(graph), load_external_data=False)):
        pass
    assert not abandoned.exists() and live.exists()


def test_an_unreadable_graph_is_handed_on_unchanged(tmp_path: Path) -> None:
    graph = tmp_path / "model.onnx"
    graph.write_bytes(b"not a graph")
    with private_graph(graph, None) as loaded:
        assert loaded == graph
