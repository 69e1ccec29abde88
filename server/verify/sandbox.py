"""Run untrusted Python (model-written code and its examples) in a locked-down subprocess.

    result = run_python("print(1 + 1)", limits=Limits(timeout_s=2))
    result.ok, result.stdout, result.limit, result.isolation

It fails closed: model-written code runs only where the isolation below is in place, or
where the user said in so many words that resource limits alone will do
(``ghostwright.allowUnisolatedCode``, or ``GHOSTWRIGHT_ALLOW_UNISOLATED_CODE=1``); otherwise
:class:`SandboxUnavailable` says what is missing. Layers, each reported in
``SandboxResult.isolation`` (see :mod:`sandbox_launcher` for the inside):

- ``unshare`` namespaces: network (no interface but a loopback that is down), pid (the code
  sees no other process, and everything it starts dies with it), mount (a private root: the
  system and Python directories read-only, nothing of ``$HOME``, ``/tmp``, ``/run`` or the
  workspace). As root these need no user namespace; otherwise ``--user --map-root-user``;
- a work directory on a tmpfs capped in bytes and files; ``nobody`` as the user when we are root;
- seccomp (libseccomp's binding): no sockets but socketpairs, no connect, no ptrace, io_uring,
  bpf, mount or new namespaces;
- pids and memory cgroups where we may make them: caps for the whole group, and a way to kill
  what detached;
- resource limits: address space, CPU seconds, file size, processes, open files, no core;
- a scrubbed environment (PATH, LANG, HOME, TMPDIR), stdin from /dev/null, ``python -I -S -B``;
- a wall-clock timeout that kills the whole process group, then anything left in the cgroups.
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
from dataclasses import dataclass
from pathlib import Path

from ghostwright.errors import GhostwrightError
from ghostwright.server.verify import sandbox_cgroup, sandbox_policy
from ghostwright.server.verify.sandbox_policy import NOBODY, REQUIRED, Limits

log = logging.getLogger(__name__)

LAUNCHER = Path(__file__).with_name("sandbox_launcher.py")
ALLOW_ENV = "GHOSTWRIGHT_ALLOW_UNISOLATED_CODE"
_NAMESPACES = ("--net", "--mount", "--pid", "--fork", "--kill-child")


class SandboxUnavailable(GhostwrightError):
    """The OS refuses the isolation model-written code needs, and the user has not waived it."""


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
    def isolated(self) -> bool:
        return set(REQUIRED) <= set(self.isolation)

    @property
    def limit(self) -> str | None:
        """Which limit stopped the code, if one did: timeout | cpu | memory | file size | disk."""
        if self.timed_out:
            return "timeout"
        if self.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
            return "cpu"
        if self.returncode == -signal.SIGXFSZ or "[Errno 27]" in self.stderr:  # Python ignores SIGXFSZ: EFBIG
            return "file size"
        if "[Errno 28]" in self.stderr:  # ENOSPC: the work directory is full (bytes or files)
            return "disk"
        if "MemoryError" in self.stderr:
            return "memory"
        return None


@dataclass(frozen=True)
class _Isolation:
    wrapper: tuple[str, ...]  # the unshare prefix, () for none
    private_root: bool
    seccomp: bool
    refused: str  # why the required layers are missing ("" when they are all there)


DEFAULT_LIMITS = Limits()
_isolation: _Isolation | None = None
_isolation_lock = threading.Lock()
_allowed_unisolated = False


def allow_unisolated(allowed: bool) -> None:
    """The user's ``allowUnisolatedCode`` setting: run with resource limits only where isolation is refused."""
    global _allowed_unisolated
    _allowed_unisolated = allowed


def run_python(source: str, *, args: tuple[str, ...] = (), files: dict[str, str] | None = None,
               limits: Limits = DEFAULT_LIMITS) -> SandboxResult:
    """Run ``source`` as ``main.py`` in a fresh sandbox; ``files`` are written beside it.

    Raises :class:`SandboxUnavailable` where the isolation is refused and not waived."""
    isolation = _probe_once()
    if isolation.refused and not (_allowed_unisolated or os.environ.get(ALLOW_ENV) == "1"):
        raise SandboxUnavailable(
            f"Ghostwright runs model-written code only in an isolated sandbox, and this machine refuses "
            f"it ({isolation.refused}). To run it with resource limits only (no network or file-system "
            f"isolation), set ghostwright.allowUnisolatedCode to true.")
    return _run(source, args, files or {}, limits, isolation)


def isolation_status() -> tuple[bool, str]:
    """(isolated, why not) on this machine, probed once."""
    isolation = _probe_once()
    return not isolation.refused, isolation.refused


def _probe_once() -> _Isolation:
    global _isolation
    with _isolation_lock:
        if _isolation is None:
            _isolation = _probe()
        return _isolation


def _probe() -> _Isolation:
    """The strongest ``unshare`` prefix that runs a trivial program with every layer (a few runs)."""
    seccomp = sandbox_policy.seccomp_module_dir() is not None
    unshare = shutil.which("unshare")
    if unshare is None or not sys.platform.startswith("linux"):
        return _Isolation((), False, seccomp, "no Linux namespaces (unshare) here")
    users = [()] if os.geteuid() == 0 else [("--user", "--map-root-user")]
    reasons = []
    for user in users:
        for flags in (_NAMESPACES, ("--net", "--mount")):
            candidate = _Isolation((unshare, *user, *flags), True, seccomp, "")
            result = _run("pass", (), {}, Limits(timeout_s=10), candidate)
            missing = [layer for layer in REQUIRED if layer not in result.isolation]
            if result.ok and not missing:
                if "--pid" not in flags:
                    log.warning("sandbox: no pid namespace here; detached processes are killed through "
                                "the cgroup only")
                return candidate
            why = "; ".join(result.notes) or result.stderr.strip()[-200:] or "missing " + ", ".join(missing)
            reasons.append(f"{' '.join(candidate.wrapper[1:])}: {why}")
    log.warning("sandbox: isolation refused: %s", " | ".join(reasons))
    return _Isolation((), False, seccomp, reasons[0] if reasons else "unshare refused")


def _run(source: str, args: tuple[str, ...], files: dict[str, str], limits: Limits,
         isolation: _Isolation) -> SandboxResult:
    base = Path(tempfile.mkdtemp(prefix="ghostwright-sandbox-"))
    work = base / "work"
    work.mkdir()
    for name, text in {**files, "main.py": source}.items():
        (work / name).write_text(text, encoding="utf-8")
    cgroups = sandbox_cgroup.make(limits.processes, limits.memory_mb)
    config: dict = {
        "workdir": str(work), "script": "main.py", "args": list(args),
        "python": os.path.realpath(sys.executable), "cgroups": [str(c) for c in cgroups],
        "limits": {"RLIMIT_AS": limits.memory_mb << 20, "RLIMIT_CPU": limits.cpu_s,
                   "RLIMIT_FSIZE": limits.file_mb << 20, "RLIMIT_NPROC": limits.processes,
                   "RLIMIT_NOFILE": limits.open_files, "RLIMIT_CORE": 0},
    }
    if (seccomp := sandbox_policy.seccomp_config()) is not None:
        config["seccomp"] = seccomp
    if isolation.private_root:
        (base / "root").mkdir()
        config.update(root=str(base / "root"), read_only=sandbox_policy.read_only_paths(), disk_mb=limits.disk_mb,
                      files=limits.files, drop_to=NOBODY if os.geteuid() == 0 else None)
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": str(work), "TMPDIR": str(work),
           "PYTHONHASHSEED": "0"}
    if isolation.private_root:
        env.update(HOME="/work", TMPDIR="/work")
    read_fd, write_fd = os.pipe()
    config["report_fd"] = write_fd
    command = [*isolation.wrapper, config["python"], "-I", "-S", str(LAUNCHER), json.dumps(config)]
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
        if "--pid" in isolation.wrapper and returncode is not None and returncode > 128:  # 128 + signal
            returncode = 128 - returncode
        with os.fdopen(read_fd, "r") as pipe:
            read_fd = -1
            report = _parse_report(pipe.read())
        layers = [*_wrapper_layers(isolation.wrapper), *report["layers"], "scrubbed env", "isolated python"]
        return SandboxResult(
            returncode=returncode, stdout=_tail(base / "stdout", limits.output_bytes),
            stderr=_tail(base / "stderr", limits.output_bytes), duration_s=duration, timed_out=timed_out,
            isolation=tuple(layers), notes=tuple(report["notes"]))
    finally:
        for fd in (read_fd, write_fd):
            if fd >= 0:
                os.close(fd)
        sandbox_cgroup.kill_all(cgroups)
        sandbox_cgroup.remove(cgroups)
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
