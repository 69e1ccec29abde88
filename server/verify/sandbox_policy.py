"""What model-written code may do in the sandbox: the layers that make it "isolated", the
syscalls it may not make, the files it may read. Kept apart from the mechanism
(:mod:`sandbox`, :mod:`sandbox_launcher`) so that the policy reads as one list.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import sys
import sysconfig
from dataclasses import dataclass

# What "isolated" means: without all three, model-written code does not run unless allowed.
REQUIRED = ("network namespace", "private root", "seccomp")
NOBODY = 65534
# Denied with EPERM by the seccomp filter; clone3 gets ENOSYS so that libc falls back to clone.
DENIED_SYSCALLS = (
    "connect", "ptrace", "process_vm_readv", "process_vm_writev", "io_uring_setup", "io_uring_enter",
    "io_uring_register", "bpf", "perf_event_open", "userfaultfd", "mount", "umount2", "pivot_root",
    "chroot", "unshare", "setns", "keyctl", "add_key", "request_key", "kexec_load", "kexec_file_load",
    "init_module", "finit_module", "delete_module", "reboot", "swapon", "swapoff", "open_by_handle_at",
    "name_to_handle_at", "fsopen", "fsmount", "fsconfig", "fspick", "move_mount", "open_tree",
    "mount_setattr", "acct", "quotactl", "settimeofday", "clock_settime", "iopl", "ioperm",
)


@dataclass(frozen=True)
class Limits:
    timeout_s: float = 5.0  # wall clock; then the process group is killed
    cpu_s: int = 5  # CPU seconds (SIGXCPU)
    memory_mb: int = 512  # address space per process, and memory for the whole group (cgroup)
    file_mb: int = 4  # largest file (stdout included) the code may write (SIGXFSZ)
    processes: int = 32  # processes and threads (a pids cgroup, and RLIMIT_NPROC)
    open_files: int = 64
    output_bytes: int = 64 * 1024  # stdout/stderr kept per stream
    disk_mb: int = 32  # the work directory's tmpfs: everything the code writes
    files: int = 512  # files and directories the code may create there


def seccomp_module_dir() -> str | None:
    spec = importlib.util.find_spec("pyseccomp")
    if spec is None or spec.origin is None or not sys.platform.startswith("linux"):
        return None
    return os.path.dirname(spec.origin)


def read_only_paths() -> list[str]:
    """What the code may read: the system's programs and libraries, and this Python."""
    python = os.path.realpath(sys.executable)
    paths = ["/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32", "/etc/ld.so.cache",
             os.path.realpath(sys.base_prefix), os.path.dirname(python)]
    libdir = sysconfig.get_config_var("LIBDIR")
    if libdir:
        paths.append(os.path.realpath(libdir))
    return list(dict.fromkeys(paths))


def seccomp_config() -> dict | None:
    """The launcher's seccomp settings, or None where libseccomp's binding is missing."""
    module_dir = seccomp_module_dir()
    if module_dir is None:
        return None
    return {"module_dir": module_dir, "deny": list(DENIED_SYSCALLS), "enosys": ["clone3"],
            "socket_family": int(socket.AF_UNIX), "clone_newuser": 0x10000000}
