"""Caps for a whole sandboxed process group: a pids and a memory cgroup, v2 or v1.

rlimits are per process (and RLIMIT_NPROC does not bind root): 32 processes of 512 MB each
would be 16 GB. A cgroup caps the group, and lets us kill everything in it afterwards,
detached or not. Made where the host lets us (root, or a delegated v2 subtree); where it does
not, :func:`make` returns none and the sandbox says so in its notes.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import time
import uuid
from pathlib import Path

log = logging.getLogger(__name__)

ROOT = Path("/sys/fs/cgroup")


def make(processes: int, memory_mb: int) -> list[Path]:
    """Fresh cgroups capping ``processes`` and ``memory_mb`` for everything that joins them."""
    name = f"ghostwright-sandbox-{uuid.uuid4().hex[:12]}"
    if (ROOT / "cgroup.controllers").is_file():
        return _make_v2(ROOT / _own_v2_path().lstrip("/") / name, processes, memory_mb)
    made = []
    for controller, settings in (("pids", {"pids.max": processes}),
                                 ("memory", {"memory.limit_in_bytes": memory_mb << 20})):
        path = ROOT / controller / name
        if (ROOT / controller / "cgroup.procs").is_file() and _create(path, settings):
            made.append(path)
    return made


def _own_v2_path() -> str:
    with contextlib.suppress(OSError), open("/proc/self/cgroup", encoding="utf-8") as f:
        for line in f:
            if line.startswith("0::"):
                return os.path.dirname(line[3:].strip())  # a sibling of ours: ours may hold processes
    return "/"


def _make_v2(path: Path, processes: int, memory_mb: int) -> list[Path]:
    wanted = {"pids.max": processes, "memory.max": memory_mb << 20, "memory.swap.max": 0}
    return [path] if _create(path, wanted) else []


def _create(path: Path, settings: dict[str, int]) -> bool:
    try:
        path.mkdir()
    except OSError:
        return False
    try:
        for key, value in settings.items():
            if (path / key).exists():
                (path / key).write_text(str(value))
        return True
    except OSError:
        remove([path])
        return False


def kill_all(paths: list[Path]) -> None:
    """SIGKILL whatever is still in the groups (a detached child, say)."""
    for path in paths:
        with contextlib.suppress(OSError):
            if (path / "cgroup.kill").exists():
                (path / "cgroup.kill").write_text("1")
                continue
            for pid in (path / "cgroup.procs").read_text().split():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid), signal.SIGKILL)


def remove(paths: list[Path]) -> None:
    for path in paths:
        for _ in range(100):  # the killed processes may take a moment to be reaped
            try:
                path.rmdir()
                break
            except FileNotFoundError:
                break
            except OSError:
                kill_all([path])
                time.sleep(0.01)
        else:
            log.warning("sandbox: could not remove %s", path)


def alive(paths: list[Path]) -> int:
    """How many processes are still in the groups."""
    count = 0
    for path in paths:
        with contextlib.suppress(OSError):
            count += len((path / "cgroup.procs").read_text().split())
    return count
