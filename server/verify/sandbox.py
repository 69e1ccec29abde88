"""Run untrusted Python (model-written code and its examples) in a locked-down subprocess.

    result = run_python("print(1 + 1)", limits=Limits(timeout_s=2))
    result.ok, result.stdout, result.limit, result.isolation

Layers, strongest first; each is used where the OS allows and reported in
``SandboxResult.isolation`` (a missing one is logged once, never silently assumed):

- ``unshare`` namespaces: network (no interface but a loopback that is down), pid (the code
  sees no other process and everything it starts dies with it), mount (every mount
  read-only except the work directory). As root these need no user namespace; otherwise
  ``--user --map-root-user`` is tried first.
- a pids cgroup (v1) when we may create one: caps processes even for root, whom
  RLIMIT_NPROC does not bind;
- resource limits: address space, CPU seconds, file size, processes, open files, no core;
- a fresh temporary directory as cwd, HOME and TMPDIR, deleted afterwards;
- a scrubbed environment (PATH, LANG, HOME, TMPDIR): no secrets from ours;
- ``python -I -S -B``: no site-packages, no PYTHON* variables, no user site;
- a wall-clock timeout that kills the whole process group.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

LAUNCHER = Path(__file__).with_name("sandbox_launcher.py")
_NAMESPACES = ("--net", "--mount", "--pid", "--fork", "--kill-child", "--mount-proc")
# Tried in order until one runs a trivial program with every layer it asks for.
_CANDIDATES: tuple[tuple[str, ...], ...] = (
    _NAMESPACES, _NAMESPACES[:-1], ("--net", "--mount"), ("--net",), (),
)


@dataclass(frozen=True)
class Limits:
    timeout_s: float = 5.0  # wall clock; then the process group is killed
    cpu_s: int = 5  # CPU seconds (SIGXCPU)
    memory_mb: int = 512  # address space: allocations past it raise MemoryError
    file_mb: int = 4  # largest file (stdout included) the code may write (SIGXFSZ)
    processes: int = 32  # processes and threads (RLIMIT_NPROC; a pids cgroup when we can)
    open_files: int = 64
    output_bytes: int = 64 * 1024  # stdout/stderr kept per stream


@dataclass(frozen=True)
class SandboxResult:
    returncode: int | None  # negative: killed by that signal
    stdout: str
    stderr: str
    duration_s: float
    timed_out: bool
    isolation: tuple[str, ...]  # layers that were in place
    notes: tuple[str, ...] = ()  # layers asked for and refused

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    @property
    def limit(self) -> str | None:
        """Which limit stopped the code, if one did: timeout | cpu | memory | file size."""
        if self.timed_out:
            return "timeout"
        if self.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
            return "cpu"
        if self.returncode == -signal.SIGXFSZ or "[Errno 27]" in self.stderr:  # Python ignores SIGXFSZ: EFBIG
            return "file size"
        if "MemoryError" in self.stderr:
            return "memory"
        return None


_wrapper: tuple[str, ...] | None = None
_wrapper_lock = threading.Lock()


def run_python(source: str, *, args: tuple[str, ...] = (), files: dict[str, str] | None = None,
               limits: Limits = Limits()) -> SandboxResult:
    """Run ``source`` as ``main.py`` in a fresh sandbox; ``files`` are written beside it."""
    return _run(source, args, files or {}, limits, _isolation_wrapper())


def _isolation_wrapper() -> tuple[str, ...]:
    """The strongest ``unshare`` prefix that works here, found once (a few trivial runs)."""
    global _wrapper
    with _wrapper_lock:
        if _wrapper is None:
            _wrapper = _probe()
        return _wrapper


def _probe() -> tuple[str, ...]:
    unshare = shutil.which("unshare")
    if unshare is None or not sys.platform.startswith("linux"):
        log.warning("sandbox: no unshare here; untrusted code runs with resource limits only "
                    "(network and file system are not isolated)")
        return ()
    users = [()] if os.geteuid() == 0 else [("--user", "--map-root-user"), ()]
    for user in users:
        for flags in _CANDIDATES[:-1]:
            wrapper = (unshare, *user, *flags)
            result = _run("pass", (), {}, Limits(timeout_s=10), wrapper)
            if result.ok and ("--mount" not in flags or "read-only mounts" in result.isolation):
                if flags != _NAMESPACES:
                    log.warning("sandbox: using %s; stronger isolation refused (%s)", " ".join(wrapper),
                                "; ".join(result.notes) or "unshare failed")
                return wrapper
            log.info("sandbox: %s refused: %s", " ".join(wrapper), result.stderr.strip()[-300:] or result.notes)
    log.warning("sandbox: unshare refuses every namespace here; untrusted code runs with resource limits only")
    return ()


def _run(source: str, args: tuple[str, ...], files: dict[str, str], limits: Limits,
         wrapper: tuple[str, ...]) -> SandboxResult:
    base = Path(tempfile.mkdtemp(prefix="ghostwright-sandbox-"))
    work = base / "work"
    work.mkdir()
    for name, text in {**files, "main.py": source}.items():
        (work / name).write_text(text, encoding="utf-8")
    cgroup = _pids_cgroup(limits.processes) if os.geteuid() == 0 else None
    config = {
        "workdir": str(work), "script": "main.py", "args": list(args), "readonly": "--mount" in wrapper,
        "python": os.path.realpath(sys.executable), "cgroup": str(cgroup) if cgroup else None,
        "limits": {"RLIMIT_AS": limits.memory_mb << 20, "RLIMIT_CPU": limits.cpu_s,
                   "RLIMIT_FSIZE": limits.file_mb << 20, "RLIMIT_NPROC": limits.processes,
                   "RLIMIT_NOFILE": limits.open_files, "RLIMIT_CORE": 0},
    }
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": str(work), "TMPDIR": str(work),
           "PYTHONHASHSEED": "0"}
    read_fd, write_fd = os.pipe()
    config["report_fd"] = write_fd
    command = [*wrapper, config["python"], "-I", "-S", str(LAUNCHER), json.dumps(config)]
    started = time.monotonic()
    timed_out = False
    try:
        with open(base / "stdout", "wb") as out, open(base / "stderr", "wb") as err:
            process = subprocess.Popen(command, cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                       stderr=err, pass_fds=(write_fd,), start_new_session=True)
            os.close(write_fd)
            write_fd = -1
            try:
                process.wait(timeout=limits.timeout_s)
            except subprocess.TimeoutExpired:
                timed_out = True
                _kill_group(process)
        duration = time.monotonic() - started
        returncode = process.returncode
        if "--pid" in wrapper and returncode is not None and returncode > 128:  # the launcher's 128 + signal
            returncode = 128 - returncode
        with os.fdopen(read_fd, "r") as pipe:
            read_fd = -1
            report = _parse_report(pipe.read())
        isolation = [*_wrapper_layers(wrapper), *report["layers"], "temp dir", "scrubbed env", "isolated python"]
        return SandboxResult(
            returncode=returncode, stdout=_tail(base / "stdout", limits.output_bytes),
            stderr=_tail(base / "stderr", limits.output_bytes), duration_s=duration, timed_out=timed_out,
            isolation=tuple(isolation), notes=tuple(report["notes"]))
    finally:
        for fd in (read_fd, write_fd):
            if fd >= 0:
                os.close(fd)
        if cgroup is not None:
            _remove_cgroup(cgroup)
        shutil.rmtree(base, ignore_errors=True)


def _kill_group(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _parse_report(text: str) -> dict[str, list[str]]:
    try:
        report = json.loads(text)
        return {"layers": list(report.get("layers", [])), "notes": list(report.get("notes", []))}
    except ValueError:
        return {"layers": [], "notes": ["the launcher did not report (it failed before the exec)"]}


def _wrapper_layers(wrapper: tuple[str, ...]) -> list[str]:
    names = {"--net": "network namespace", "--pid": "pid namespace", "--user": "user namespace"}
    return [name for flag, name in names.items() if flag in wrapper]


def _tail(path: Path, limit: int) -> str:
    with open(path, "rb") as f:
        data = f.read(limit + 1)
    text = data[:limit].decode("utf-8", "replace")
    return text + "\n[output truncated]" if len(data) > limit else text


def _pids_cgroup(limit: int) -> Path | None:
    """A fresh v1 pids cgroup capped at ``limit``, or None where we may not make one."""
    root = Path("/sys/fs/cgroup/pids")
    if not (root / "cgroup.procs").is_file():
        return None
    path = root / f"ghostwright-sandbox-{uuid.uuid4().hex[:12]}"
    try:
        path.mkdir()
        (path / "pids.max").write_text(str(limit))
        return path
    except OSError:
        _remove_cgroup(path)
        return None


def _remove_cgroup(path: Path) -> None:
    for _ in range(50):  # the namespace's processes may take a moment to be reaped
        try:
            path.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.01)
    log.warning("sandbox: could not remove %s", path)
