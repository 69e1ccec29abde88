"""Load a graph from a folder of our own, with private copies of its weights.

onnxruntime memory-maps the page-aligned weights file, and a mapping is only as good as the
file under it: when something truncates the bundle's weights in place (`truncate`, a copy tool
writing over the file), the next read of a mapped page past the new end kills the whole server
with SIGBUS, which no Python handler can catch. So the session is built from a hidden folder
beside the bundle holding the graph and a copy of each weights file it names
(``os.copy_file_range``: a reflink on btrfs or XFS, a page-cache copy on ext4, ~0.3 s for
700 MB), and the folder is removed as soon as the session holds its files: the mapping then
points at an inode no path names, which nothing but this process can change.

Where no copy can be made (a read-only bundle, a full disk) the bundle's own files are used
and the log says what that risks. A folder left by a process that died mid-load is removed by
the next load.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import onnx

log = logging.getLogger(__name__)

PREFIX = ".open-"


def external_files(model: onnx.ModelProto) -> list[str]:
    """The weights files the graph's initializers name, in first-use order."""
    names: dict[str, None] = {}
    for tensor in model.graph.initializer:
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            for entry in tensor.external_data:
                if entry.key == "location":
                    names.setdefault(entry.value, None)
    return list(names)


@contextlib.contextmanager
def private_graph(path: Path, model: onnx.ModelProto | None, graph: bytes | None = None) -> Iterator[Path]:
    """A path to load instead of ``path``: the graph (``graph`` if given, a rewrite of it) beside
    private copies of its weights; ``path`` itself where that cannot be made. ``model`` is the
    graph read without its weights (None when onnx could not read it: onnxruntime then says why)."""
    names = external_files(model) if model is not None else []
    if model is None or any(Path(name).name != name or name in ("", ".", "..") for name in names):
        yield path  # unreadable, or weights outside the graph's folder: load as the bundle stands
        return
    _remove_abandoned(path.parent)
    try:
        folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=path.parent))
    except OSError as exc:
        log.warning("%s: cannot copy the weights (%s); the bundle's own files are mapped, and "
                    "changing them in place while this server runs will crash it", path.parent, exc)
        yield path
        return
    try:
        target = folder / path.name
        if graph is None:
            _link_or_copy(path, target)
        else:
            target.write_bytes(graph)
        for name in names:
            _private_copy(path.parent / name, folder / name)
        yield target
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _private_copy(source: Path, target: Path) -> None:
    """Copy ``source`` to ``target`` (a reflink where the file system can); where it cannot (a
    full disk), link to the shared file and say what that risks."""
    if not source.is_file():
        return  # onnxruntime's load says the file is missing
    try:
        with open(source, "rb") as src, open(target, "wb") as dst:
            size, done = os.fstat(src.fileno()).st_size, 0
            while done < size:
                step = os.copy_file_range(src.fileno(), dst.fileno(), size - done)
                if step == 0:
                    break  # the file shrank while copied: onnxruntime's load finds it short
                done += step
    except OSError as exc:
        target.unlink(missing_ok=True)
        log.warning("%s: cannot copy the weights (%s); the bundle's own file is mapped, and "
                    "changing it in place while this server runs will crash it", source, exc)
        target.symlink_to(source.resolve())


def _link_or_copy(source: Path, target: Path) -> None:
    """The graph is parsed at load, never mapped: a hard link is as good as a copy."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _remove_abandoned(folder: Path) -> None:
    """Remove the private folders of processes that died before removing their own."""
    try:
        entries = [p for p in folder.iterdir() if p.name.startswith(PREFIX) and p.is_dir()]
    except OSError:
        return
    for entry in entries:
        pid = entry.name[len(PREFIX):].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(entry, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: alive, and not ours to clean up
    return True
