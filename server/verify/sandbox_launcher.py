"""The first program inside the sandbox: lock the process down, then exec the untrusted code.

Run by :mod:`ghostwright.server.verify.sandbox` as ``python -I -S sandbox_launcher.py CONFIG`` (inside
``unshare`` when the OS allows), with a scrubbed environment. Standard library only: with
``-I -S`` nothing else is importable. The work happens here rather than in a ``preexec_fn``
because the language server runs threads (engine, index), where ``preexec_fn`` can deadlock.

Steps, each reported back on the report pipe (one JSON object) before the exec:

1. join the pids cgroup the parent prepared (a process cap that also binds root);
2. in a mount namespace: every mount read-only, except a bind mount of the work directory;
3. resource limits: address space, CPU seconds, file size, processes, open files, no core;
4. exec ``python -I -S -B script`` in the work directory (in a child when we are the pid
   namespace's init, which the kernel spares from SIGXCPU and SIGXFSZ).
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import sys

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 1, 2, 4, 8, 32
MS_NOATIME, MS_NODIRATIME, MS_BIND, MS_REC, MS_PRIVATE = 1024, 2048, 4096, 16384, 1 << 18
MS_RELATIME, MS_STRICTATIME = 1 << 21, 1 << 24
# Per-mount flags a remount must keep (a user namespace may not clear them).
_KEEP = {"nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": MS_NOEXEC, "noatime": MS_NOATIME,
         "nodiratime": MS_NODIRATIME, "relatime": MS_RELATIME, "strictatime": MS_STRICTATIME}


def _mount(libc: ctypes.CDLL, source: str | None, target: str, flags: int) -> None:
    encoded = [s.encode() if s is not None else None for s in (source, target)]
    if libc.mount(encoded[0], encoded[1], None, flags, None) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"mount {target}: {os.strerror(errno)}")


def _mounts() -> list[tuple[int, str, int]]:
    """(mount id, mount point, flags to keep) from /proc/self/mountinfo."""
    found = []
    with open("/proc/self/mountinfo", encoding="utf-8") as f:
        for line in f:
            fields = line.split()
            point = fields[4].encode().decode("unicode_escape")  # "\040" is a space
            keep = sum(_KEEP.get(option, 0) for option in fields[5].split(","))
            found.append((int(fields[0]), point, keep))
    return found


def read_only_except(workdir: str) -> list[str]:
    """Make every mount read-only except ``workdir``; returns the mount points that refused."""
    libc = ctypes.CDLL(None, use_errno=True)
    _mount(libc, None, "/", MS_REC | MS_PRIVATE)  # nothing we do here reaches the parent namespace
    _mount(libc, workdir, workdir, MS_BIND | MS_REC)
    mounts = _mounts()
    own = max(mount_id for mount_id, point, _ in mounts if point == workdir)
    refused = []
    for mount_id, point, keep in mounts:
        if mount_id == own or point.startswith(workdir + "/"):
            continue
        try:
            _mount(libc, None, point, MS_REMOUNT | MS_BIND | MS_RDONLY | keep)
        except OSError:
            refused.append(point)
    if "/" in refused:
        raise OSError(f"the root file system could not be made read-only ({len(refused)} mounts refused)")
    return refused


def set_limits(limits: dict[str, int]) -> None:
    for name, value in limits.items():
        kind = getattr(resource, name)
        hard = value + 1 if name == "RLIMIT_CPU" else value  # SIGXCPU first, SIGKILL a second later
        resource.setrlimit(kind, (value, hard))


def _reap(child: int) -> None:
    """As pid 1: reap whatever exits, and leave with the child's status (128 + signal if killed)."""
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            os._exit(1)
        if pid == child:
            code = os.waitstatus_to_exitcode(status)
            os._exit(code if code >= 0 else 128 - code)


def main(config: dict) -> None:
    report: dict[str, object] = {"layers": [], "notes": []}
    workdir = config["workdir"]
    if config.get("cgroup"):
        try:
            with open(os.path.join(config["cgroup"], "cgroup.procs"), "w") as f:
                f.write(str(os.getpid()))
            report["layers"].append("pids cgroup")
        except OSError as exc:
            report["notes"].append(f"pids cgroup not joined: {exc}")
    if config.get("readonly"):
        try:
            refused = read_only_except(workdir)
            report["layers"].append("read-only mounts")
            if refused:
                report["notes"].append(f"mounts left writable: {', '.join(refused)}")
        except OSError as exc:
            report["notes"].append(f"file system writable: {exc}")
    if os.getpid() == 1:  # init of a pid namespace ignores SIGXCPU and SIGXFSZ: run the code in a child
        child = os.fork()
        if child:
            os.close(config["report_fd"])
            _reap(child)
    set_limits(config["limits"])
    report["layers"].append("rlimits")
    os.chdir(workdir)
    with os.fdopen(config["report_fd"], "w") as out:
        json.dump(report, out)
    python = config["python"]
    os.execve(python, [python, "-I", "-S", "-B", config["script"], *config["args"]], dict(os.environ))


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
