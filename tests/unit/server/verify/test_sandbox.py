"""The sandbox that runs model-written code: every layer is tested by code that tries to cross it."""

from __future__ import annotations

import os
import shutil
import socket
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ghostwright.server.verify.sandbox import Limits, run_python

FAST = Limits(timeout_s=3, cpu_s=2)
NAMESPACES = sys.platform.startswith("linux") and shutil.which("unshare") is not None


def test_runs_code_in_its_own_temp_dir_and_cleans_up() -> None:
    result = run_python("import os\nprint(os.getcwd())\nopen('scratch.txt', 'w').write('ok')\n"
                        "print(open('scratch.txt').read(), os.environ['HOME'] == os.getcwd())",
                        limits=FAST)
    assert result.ok, result.stderr
    workdir, content = result.stdout.split("\n")[:2]
    assert "ghostwright-sandbox-" in workdir and content == "ok True"
    assert not os.path.exists(workdir)  # deleted afterwards
    assert {"rlimits", "temp dir", "scrubbed env", "isolated python"} <= set(result.isolation)


def test_the_environment_holds_no_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "sk-test-0123456789abcdefghijklmnop"
    monkeypatch.setenv("GHOSTWRIGHT_FAKE_API_KEY", secret)
    code = ("import glob, os\n"
            "print(sorted(os.environ), os.environ.get('GHOSTWRIGHT_FAKE_API_KEY'))\n"
            "for path in glob.glob('/proc/*/environ'):\n"  # other processes' environments, if visible
            "    try:\n        print(open(path, 'rb').read())\n    except OSError:\n        pass\n")
    result = run_python(code, limits=FAST)
    assert result.ok, result.stderr
    assert secret not in result.stdout
    assert result.stdout.startswith("['HOME', 'LANG', 'PATH', 'PYTHONHASHSEED', 'TMPDIR'] None")


def test_an_endless_loop_is_stopped() -> None:
    result = run_python("while True:\n    pass\n", limits=Limits(timeout_s=2, cpu_s=1))
    assert not result.ok and result.limit in ("cpu", "timeout")
    assert result.duration_s < 3


def test_a_sleeping_process_is_killed_at_the_timeout() -> None:
    result = run_python("import time\ntime.sleep(60)\n", limits=Limits(timeout_s=1))
    assert result.timed_out and result.limit == "timeout" and result.duration_s < 2


def test_huge_allocations_fail() -> None:
    result = run_python("blocks = []\nwhile True:\n    blocks.append(bytearray(50 << 20))\n",
                        limits=Limits(timeout_s=5, memory_mb=256))
    assert not result.ok and result.limit == "memory", result.stderr[-300:]


def test_huge_files_fail() -> None:
    result = run_python("with open('big', 'wb') as f:\n    while True:\n        f.write(b'x' * 65536)\n",
                        limits=Limits(timeout_s=5, file_mb=1))
    assert not result.ok and result.limit == "file size", result.stderr[-300:]


def test_processes_are_capped() -> None:
    code = ("import os, time\nmade = 0\nfor _ in range(200):\n    try:\n        if os.fork() == 0:\n"
            "            time.sleep(2)\n            os._exit(0)\n        made += 1\n    except OSError:\n"
            "        break\nprint(made)\n")
    result = run_python(code, limits=Limits(timeout_s=5, processes=16))
    assert result.ok, result.stderr
    assert int(result.stdout) < 16  # the cap counts the sandboxed python itself


@pytest.mark.skipif(not NAMESPACES, reason="network namespaces need Linux and unshare")
def test_the_network_is_unreachable() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        port = listener.getsockname()[1]
        code = (f"import socket\ntry:\n    socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
                "    print('connected')\nexcept OSError as exc:\n    print('refused', exc)\n")
        result = run_python(code, limits=FAST)
        assert result.ok and result.stdout.startswith("refused"), result.stdout
        with pytest.raises(BlockingIOError):
            listener.accept()  # nothing ever reached us
    assert "network namespace" in result.isolation


@pytest.mark.skipif(not NAMESPACES, reason="mount namespaces need Linux and unshare")
def test_writes_outside_the_temp_dir_fail(tmp_path: Path) -> None:
    target = tmp_path / "outside.txt"
    code = (f"import os\nfor path in ({str(target)!r}, '/tmp/ghostwright-escape.txt', os.path.expanduser('~/../x')):\n"
            "    try:\n        open(path, 'w').write('escaped')\n        print('wrote', path)\n"
            "    except OSError as exc:\n        print('blocked', exc.errno)\n")
    result = run_python(code, limits=FAST)
    assert result.ok, result.stderr
    assert "wrote" not in result.stdout
    assert not target.exists() and not Path("/tmp/ghostwright-escape.txt").exists()
    assert "read-only mounts" in result.isolation


def test_parallel_runs_do_not_interfere() -> None:
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda i: run_python(f"print({i} * 2)", limits=FAST), range(6)))
    assert [r.stdout.strip() for r in results] == [str(i * 2) for i in range(6)]
