"""The sandbox that runs model-written code: every layer is tested by code that tries to cross it.

The evil programs each run with a unique marker in their arguments; afterwards no process
carrying it may be alive anywhere on the machine.
"""

from __future__ import annotations

import os
import socket
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ghostwright.server.verify import sandbox
from ghostwright.server.verify.sandbox import Limits, SandboxResult, SandboxUnavailable, run_python

FAST = Limits(timeout_s=3, cpu_s=2)
ISOLATED, WHY_NOT = sandbox.isolation_status()
needs_isolation = pytest.mark.skipif(not ISOLATED, reason=f"the OS refuses isolation here: {WHY_NOT}")


def survivors(marker: str) -> list[str]:
    """Command lines of live processes that carry ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if marker in cmdline:
                found.append(cmdline)
    return found


def run_evil(code: str, limits: Limits = FAST) -> SandboxResult:
    marker = f"evil-{uuid.uuid4().hex}"
    result = run_python(code, args=(marker,), limits=limits)
    assert survivors(marker) == [], "a sandboxed process outlived its run"
    return result


def test_runs_code_in_its_own_work_dir() -> None:
    result = run_python("import os\nprint(os.getcwd())\nopen('scratch.txt', 'w').write('ok')\n"
                        "print(open('scratch.txt').read(), os.environ['HOME'] == os.getcwd())",
                        files={"data.txt": "given"}, limits=FAST)
    assert result.ok, result.stderr
    workdir, content = result.stdout.split("\n")[:2]
    assert content == "ok True"
    assert {"rlimits", "scrubbed env", "isolated python"} <= set(result.isolation)
    if ISOLATED:
        assert workdir == "/work" and result.isolated


def test_the_environment_holds_no_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "sk-test-0123456789abcdefghijklmnop"
    monkeypatch.setenv("GHOSTWRIGHT_FAKE_API_KEY", secret)
    code = ("import glob, os\n"
            "print(sorted(os.environ), os.environ.get('GHOSTWRIGHT_FAKE_API_KEY'))\n"
            "for path in glob.glob('/proc/*/environ'):\n"  # other processes' environments, if visible
            "    try:\n        print(open(path, 'rb').read())\n    except OSError:\n        pass\n")
    result = run_evil(code)
    assert result.ok, result.stderr
    assert secret not in result.stdout
    assert result.stdout.startswith("['HOME', 'LANG', 'PATH', 'PYTHONHASHSEED', 'TMPDIR'] None")


def test_an_endless_loop_is_stopped() -> None:
    result = run_evil("while True:\n    pass\n", limits=Limits(timeout_s=2, cpu_s=1))
    assert not result.ok and result.limit in ("cpu", "timeout")
    assert result.duration_s < 3


def test_a_sleeping_process_is_killed_at_the_timeout() -> None:
    result = run_evil("import time\ntime.sleep(60)\n", limits=Limits(timeout_s=1))
    assert result.timed_out and result.limit == "timeout" and result.duration_s < 2


def test_reading_stdin_gets_end_of_file() -> None:
    result = run_evil("import sys\nprint(repr(sys.stdin.read()))\n")
    assert result.ok and result.stdout.strip() == "''", result.stderr


def test_a_four_gigabyte_allocation_fails() -> None:
    result = run_evil("x = bytearray(4 << 30)\n", limits=Limits(timeout_s=5, memory_mb=256))
    assert not result.ok and result.limit == "memory", result.stderr[-300:]


def test_huge_allocations_fail() -> None:
    result = run_evil("blocks = []\nwhile True:\n    blocks.append(bytearray(50 << 20))\n",
                      limits=Limits(timeout_s=5, memory_mb=256))
    assert not result.ok and result.limit == "memory", result.stderr[-300:]


def test_huge_files_fail() -> None:
    result = run_evil("with open('big', 'wb') as f:\n    while True:\n        f.write(b'x' * 65536)\n",
                      limits=Limits(timeout_s=5, file_mb=1))
    assert not result.ok and result.limit == "file size", result.stderr[-300:]


def test_unbounded_output_is_cut() -> None:
    result = run_evil("while True:\n    print('x' * 1000)\n", limits=Limits(timeout_s=5, file_mb=1))
    assert not result.ok
    assert len(result.stdout) < 70 * 1024 and result.stdout.endswith("[output truncated]")


@needs_isolation
def test_filling_the_disk_stops_at_the_work_dirs_cap() -> None:
    code = ("i = 0\nwhile True:\n    with open(f'f{i}', 'wb') as f:\n        f.write(b'x' * (1 << 20))\n    i += 1\n")
    result = run_evil(code, limits=Limits(timeout_s=10, disk_mb=8, file_mb=4))
    assert not result.ok and result.limit == "disk", result.stderr[-300:]


@needs_isolation
def test_creating_files_stops_at_the_file_cap() -> None:
    code = "i = 0\nwhile True:\n    open(f'f{i}', 'w').close()\n    i += 1\n"
    result = run_evil(code, limits=Limits(timeout_s=10, files=100))
    assert not result.ok and result.limit == "disk", result.stderr[-300:]


def test_processes_are_capped() -> None:
    code = ("import os, time\nmade = 0\nfor _ in range(200):\n    try:\n        if os.fork() == 0:\n"
            "            time.sleep(2)\n            os._exit(0)\n        made += 1\n    except OSError:\n"
            "        break\nprint(made)\n")
    result = run_evil(code, limits=Limits(timeout_s=5, processes=16))
    assert result.ok, result.stderr
    assert int(result.stdout) < 16  # the cap counts the sandboxed python itself


def test_a_fork_bomb_is_contained() -> None:
    code = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    result = run_evil(code, limits=Limits(timeout_s=2, processes=16))
    assert not result.ok


def test_a_detached_child_dies_with_the_run() -> None:
    code = ("import os, sys, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
            "        time.sleep(60)\n    os._exit(0)\nprint('parent done')\n")
    result = run_evil(code)  # run_evil checks that the sleeper is gone
    assert result.ok and "parent done" in result.stdout, result.stderr


@needs_isolation
def test_the_network_is_unreachable() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        port = listener.getsockname()[1]
        code = (f"import socket, subprocess\n"
                f"for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):\n"
                f"    try:\n        s = socket.socket(socket.AF_INET, kind)\n"
                f"        s.connect(('127.0.0.1', {port}))\n        print('connected')\n"
                f"    except OSError as exc:\n        print('refused', exc.errno)\n"
                f"bash = subprocess.run(['bash', '-c', 'echo hi > /dev/tcp/127.0.0.1/{port} && echo sent'],\n"
                f"                      capture_output=True, text=True)\n"
                f"print('bash', bash.returncode, bash.stdout.strip())\n")
        result = run_evil(code)
        assert result.ok, result.stderr
        assert "connected" not in result.stdout and "sent" not in result.stdout, result.stdout
        assert result.stdout.count("refused") == 2
        with pytest.raises(BlockingIOError):
            listener.accept()  # nothing ever reached us
    assert {"network namespace", "seccomp"} <= set(result.isolation)


@needs_isolation
def test_unix_sockets_outside_are_unreachable(tmp_path: Path) -> None:
    path = str(tmp_path / "agent.sock")
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(path)
        listener.listen()
        listener.setblocking(False)
        code = (f"import socket\nfor p in ({path!r}, '/var/run/docker.sock', '/run/docker.sock'):\n"
                f"    try:\n        socket.socket(socket.AF_UNIX).connect(p)\n        print('connected', p)\n"
                f"    except OSError as exc:\n        print('refused', exc.errno)\n")
        result = run_evil(code)
        assert result.ok and "connected" not in result.stdout, result.stdout + result.stderr
        with pytest.raises(BlockingIOError):
            listener.accept()


@needs_isolation
def test_private_files_are_invisible(tmp_path: Path) -> None:
    ssh = tmp_path / "home" / ".ssh"
    ssh.mkdir(parents=True)
    (ssh / "id_rsa").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nfake\n")
    workspace = tmp_path / "project"
    workspace.mkdir()
    (workspace / ".env").write_text("API_KEY=fake-secret-value\n")
    real_key = os.path.expanduser("~/.ssh/id_rsa")
    code = (f"import os\nfor p in ({str(ssh / 'id_rsa')!r}, {str(workspace / '.env')!r}, {real_key!r},\n"
            f"          '/etc/shadow', '/proc/1/root/etc/hostname', {str(Path.cwd() / 'pyproject.toml')!r}):\n"
            f"    try:\n        print('read', p, open(p).read()[:20])\n"
            f"    except OSError as exc:\n        print('blocked', exc.errno)\n"
            f"print(sorted(os.listdir('/')))\n"
            f"print(os.path.isdir({os.path.expanduser('~/.ssh')!r}), os.path.isdir({str(tmp_path)!r}))\n")
    result = run_evil(code)
    assert result.ok, result.stderr
    assert "read" not in result.stdout and "fake" not in result.stdout, result.stdout
    *_, listing, hidden = result.stdout.splitlines()
    python_top = Path(sys.base_prefix).resolve().parts[1]  # the path down to this Python is there, read-only
    assert not ({"home", "root", "run", "var", "mnt", "opt", "srv"} - {python_top}) & set(eval(listing))
    assert hidden == "False False"  # ~/.ssh and the test's own directory do not exist in there


@needs_isolation
def test_writes_outside_the_work_dir_fail(tmp_path: Path) -> None:
    target = tmp_path / "outside.txt"
    code = (f"import os\nos.symlink({str(target)!r}, 'link')\n"
            f"for path in ({str(target)!r}, 'link', '/tmp/ghostwright-escape.txt', '/usr/escape.txt', '/escape'):\n"
            "    try:\n        open(path, 'w').write('escaped')\n        print('wrote', path)\n"
            "    except OSError as exc:\n        print('blocked', exc.errno)\n")
    result = run_evil(code)
    assert result.ok, result.stderr
    assert "wrote" not in result.stdout, result.stdout
    assert not target.exists() and not Path("/tmp/ghostwright-escape.txt").exists()
    assert "private root" in result.isolation


@needs_isolation
def test_dangerous_syscalls_are_refused() -> None:
    code = ("import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n"
            "calls = {'ptrace': (101, 16, 1, 0, 0), 'io_uring_setup': (425, 8, 0), 'unshare': (272, 0x10000000),\n"
            "         'mount': (165, b'none', b'/work', b'tmpfs', 0, 0), 'bpf': (321, 0, 0, 0)}\n"
            "for name, args in calls.items():\n"
            "    print(name, libc.syscall(*args), ctypes.get_errno())\n"
            "print('uid', os.getuid())\n")
    result = run_evil(code)
    assert result.ok, result.stderr
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines())
    for name in ("ptrace", "io_uring_setup", "unshare", "mount", "bpf"):
        assert lines[name] == "-1 1", (name, lines[name])  # EPERM
    if os.geteuid() == 0:
        assert lines["uid"] == str(sandbox.NOBODY)


def test_without_isolation_it_refuses_unless_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)  # a machine without unshare
    monkeypatch.setattr(sandbox, "_isolation", None)
    monkeypatch.delenv(sandbox.ALLOW_ENV, raising=False)
    with pytest.raises(SandboxUnavailable, match="allowUnisolatedCode"):
        run_python("print('ran')", limits=FAST)
    sandbox.allow_unisolated(True)
    try:
        result = run_python("print('ran')", limits=FAST)
    finally:
        sandbox.allow_unisolated(False)
    assert result.ok and result.stdout.strip() == "ran"
    assert not result.isolated and "private root" not in result.isolation


def test_parallel_runs_do_not_interfere() -> None:
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda i: run_python(f"print({i} * 2)", limits=FAST), range(6)))
    assert [r.stdout.strip() for r in results] == [str(i * 2) for i in range(6)]
