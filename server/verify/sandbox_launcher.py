"""The first program inside the sandbox: lock the process down, then exec the untrusted code.

Run by :mod:`ghostwright.server.verify.sandbox` as ``python -I -S sandbox_launcher.py CONFIG`` (inside
``unshare`` when the OS allows), with a scrubbed environment. Standard library only, plus
libseccomp's binding loaded from the directory the parent names: with ``-I -S`` nothing else
is importable. The work happens here rather than in a ``preexec_fn`` because the language
server runs threads (engine, index), where ``preexec_fn`` can deadlock.

Steps, each reported back on the report pipe (one JSON object) before the exec:

1. join the cgroups the parent prepared (pids and memory caps for the whole group, which
   also bind root);
2. in a mount namespace, a private root (:func:`build_root`): a fresh tmpfs holding read-only
   binds of the system and Python directories only, a size- and inode-capped tmpfs as the
   work directory, a fresh ``/proc`` and a handful of ``/dev`` nodes; then ``chroot`` into it.
   ``$HOME``, ``/tmp``, ``/run``, the workspace, ``~/.ssh`` and every Unix socket are absent;
3. as pid 1 of a pid namespace, fork: the kernel spares init from SIGXCPU and SIGXFSZ, and
   when init exits every process left in the namespace dies with it;
4. drop to ``nobody`` when we are real root (no capabilities left to undo any of this);
5. resource limits: address space, CPU seconds, file size, processes, open files, no core;
6. a seccomp filter (no new privileges): no sockets but socketpairs, no connect, no ptrace,
   io_uring, bpf, mount, namespaces, keyrings or module loading;
7. exec ``python -I -S -B script`` in the work directory.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import resource
import shutil
import sys

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 1, 2, 4, 8, 32
MS_NOATIME, MS_NODIRATIME, MS_BIND, MS_REC, MS_PRIVATE = 1024, 2048, 4096, 16384, 1 << 18
MS_RELATIME, MS_STRICTATIME = 1 << 21, 1 << 24
# Per-mount flags a read-only remount must keep (a user namespace may not clear them).
_KEEP = {"nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": MS_NOEXEC, "noatime": MS_NOATIME,
         "nodiratime": MS_NODIRATIME, "relatime": MS_RELATIME, "strictatime": MS_STRICTATIME}
_DEVICES = ("null", "zero", "full", "random", "urandom")
WORK = "/work"  # the work directory's path inside the private root


def _mount(libc: ctypes.CDLL, source: str | None, target: str, kind: str | None, flags: int,
           data: str | None = None) -> None:
    args = [s.encode() if s is not None else None for s in (source, target, kind, data)]
    if libc.mount(args[0], args[1], args[2], flags, args[3]) != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"mount {target}: {os.strerror(code)}")


def _flags_of(point: str) -> int:
    """The per-mount flags of the mount at ``point``, from /proc/self/mountinfo."""
    keep = 0
    with open("/proc/self/mountinfo", encoding="utf-8") as f:
        for line in f:
            fields = line.split()
            if fields[4].encode().decode("unicode_escape") == point:  # "\040" is a space
                keep = sum(_KEEP.get(option, 0) for option in fields[5].split(","))
    return keep


def _bind_read_only(libc: ctypes.CDLL, source: str, target: str) -> None:
    if os.path.isdir(source):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        open(target, "a").close()
    _mount(libc, source, target, None, MS_BIND | MS_REC)
    _mount(libc, None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | _flags_of(target))


def build_root(config: dict) -> str:
    """Make the private root the code will see; returns its path (still outside the chroot)."""
    libc = ctypes.CDLL(None, use_errno=True)
    root, owner = config["root"], config.get("drop_to")
    _mount(libc, None, "/", None, MS_REC | MS_PRIVATE)  # nothing we do here reaches the parent namespace
    _mount(libc, "tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755")
    for path in config["read_only"]:
        target = root + path
        if os.path.islink(path) and os.path.dirname(path) == "/":  # merged /usr: /bin -> usr/bin
            os.symlink(os.readlink(path), target)
        elif os.path.exists(path) and not os.path.lexists(target):
            _bind_read_only(libc, path, target)
    work = root + WORK
    os.makedirs(work)
    limits = f"size={config['disk_mb']}m,nr_inodes={config['files']},mode=0700"
    if owner is not None:
        limits += f",uid={owner},gid={owner}"
    _mount(libc, "tmpfs", work, "tmpfs", MS_NOSUID | MS_NODEV, limits)
    for name in os.listdir(config["workdir"]):
        shutil.copyfile(os.path.join(config["workdir"], name), os.path.join(work, name))
        if owner is not None:
            os.chown(os.path.join(work, name), owner, owner)
    os.makedirs(root + "/proc")
    _mount(libc, "proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    os.makedirs(root + "/dev")
    _mount(libc, "tmpfs", root + "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "size=64k,mode=0755")
    for name in _DEVICES:
        open(f"{root}/dev/{name}", "a").close()
        _mount(libc, f"/dev/{name}", f"{root}/dev/{name}", None, MS_BIND)
    os.symlink("/proc/self/fd", root + "/dev/fd")
    os.makedirs(root + "/tmp")  # exists for programs that insist; read-only like the rest
    _mount(libc, None, root, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    return root


def set_limits(limits: dict[str, int]) -> None:
    for name, value in limits.items():
        kind = getattr(resource, name)
        hard = value + 1 if name == "RLIMIT_CPU" else value  # SIGXCPU first, SIGKILL a second later
        resource.setrlimit(kind, (value, hard))


def seccomp_filter(config: dict):  # -> pyseccomp.SyscallFilter
    """The filter, built before the chroot (libseccomp is found through the host's paths)."""
    sys.path.insert(0, config["module_dir"])
    import pyseccomp as seccomp

    deny = seccomp.ERRNO(errno.EPERM)
    rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    for action, names in ((deny, config["deny"]), (seccomp.ERRNO(errno.ENOSYS), config["enosys"])):
        for name in names:
            with contextlib.suppress(RuntimeError, OSError, ValueError):  # a syscall unknown here
                rules.add_rule(action, name)
    rules.add_rule(deny, "socket", seccomp.Arg(0, seccomp.NE, config["socket_family"]))
    newuser = config["clone_newuser"]  # clone(CLONE_NEWUSER): a user namespace would give back mount
    rules.add_rule(deny, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, newuser, newuser))
    return rules


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


def _drop_privileges(uid: int) -> None:
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)


def main(config: dict) -> None:
    report: dict[str, list[str]] = {"layers": [], "notes": []}
    workdir = config["workdir"]
    for cgroup in config.get("cgroups", []):
        try:
            with open(os.path.join(cgroup, "cgroup.procs"), "w") as f:
                f.write(str(os.getpid()))
            report["layers"].append(f"{os.path.basename(os.path.dirname(cgroup)) or 'v2'} cgroup")
        except OSError as exc:
            report["notes"].append(f"cgroup {cgroup} not joined: {exc}")
    rules = None
    if config.get("seccomp"):
        try:
            rules = seccomp_filter(config["seccomp"])
        except Exception as exc:  # reported; the parent decides whether to refuse
            report["notes"].append(f"seccomp unavailable: {exc}")
    if config.get("root"):
        try:
            os.chroot(build_root(config))
            workdir = WORK
            report["layers"].append("private root")
        except OSError as exc:
            report["notes"].append(f"private root refused: {exc}")
    if os.getpid() == 1:  # init of a pid namespace ignores SIGXCPU and SIGXFSZ: run the code in a child
        child = os.fork()
        if child:
            os.close(config["report_fd"])
            _reap(child)
    os.chdir(workdir)
    if config.get("drop_to") is not None and "private root" in report["layers"]:
        _drop_privileges(config["drop_to"])
        report["layers"].append("unprivileged uid")
    set_limits(config["limits"])
    report["layers"].append("rlimits")
    if rules is not None:
        rules.load()
        report["layers"].append("seccomp")
    with os.fdopen(config["report_fd"], "w") as out:
        json.dump(report, out)
    python = config["python"]
    os.execve(python, [python, "-I", "-S", "-B", config["script"], *config["args"]], dict(os.environ))


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
