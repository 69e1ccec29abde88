"""One engine for all of a user's editor windows: a daemon on a Unix socket, started on demand.

The first ``ghostwright serve`` that wants the shared engine starts ``ghostwright engine serve
--uds`` in its own session (it outlives the window) and waits for ``/health``; every later one
connects to the same socket. A token file (0600) is the key, the socket is the user's only.
A flock serialises the start, so two windows opening at once start one daemon. The daemon
exits after ``IDLE_EXIT_S`` with no request.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx

from ghostwright.errors import EngineError
from ghostwright.home import ghostwright_home
from ghostwright.inference.remote import RemoteConfig, RemoteEngine, connect
from ghostwright.inference.serving.run import token_from_file

log = logging.getLogger(__name__)

IDLE_EXIT_S = 1800
START_TIMEOUT_S = 180


def paths(model: str, model_dir: str | None, device: str) -> dict[str, Path]:
    ident = f"{model}|{model_dir or ''}|{device}"
    name = re.sub(r"[^A-Za-z0-9.-]+", "-", model)[:40] + "-" + hashlib.sha1(ident.encode()).hexdigest()[:8]
    root = ghostwright_home() / "engine"
    return {k: root / f"{name}.{k}" for k in ("sock", "token", "lock", "log")}


def _healthy(sock: Path) -> bool:
    if not sock.exists():
        return False
    try:
        with httpx.Client(transport=httpx.HTTPTransport(uds=str(sock)), timeout=2.0) as client:
            return client.get("http://ghostwright/health").status_code == 200
    except httpx.HTTPError:
        return False


def ensure_daemon(model: str, model_dir: str | None = None, device: str = "auto") -> dict[str, Path]:
    """Start the daemon unless one answers; return its paths."""
    p = paths(model, model_dir, device)
    p["lock"].parent.mkdir(parents=True, exist_ok=True)
    os.chmod(p["lock"].parent, 0o700)
    with open(p["lock"], "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _healthy(p["sock"]):
            return p
        token_from_file(p["token"])
        command = [sys.executable, "-m", "ghostwright.cli", "engine", "serve", "--uds", str(p["sock"]),
                   "--token-file", str(p["token"]), "--idle-exit", str(IDLE_EXIT_S), "--device", device,
                   "--model", model]
        if model_dir:
            command += ["--model-dir", model_dir]
        with open(p["log"], "ab") as out:
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                       start_new_session=True, close_fds=True)
        log.info("started the shared engine (pid %d) on %s", process.pid, p["sock"])
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if process.poll() is not None:
                tail = p["log"].read_text(encoding="utf-8", errors="replace")[-1500:]
                raise EngineError(f"the shared engine exited with {process.returncode}:\n{tail}")
            if _healthy(p["sock"]):
                return p
            time.sleep(0.2)
        raise EngineError(f"the shared engine did not come up in {START_TIMEOUT_S} s (see {p['log']})")


def connect_shared(model: str, model_dir: str | None = None, device: str = "auto") -> RemoteEngine:
    p = ensure_daemon(model, model_dir, device)
    token = p["token"].read_text(encoding="utf-8").strip()
    return connect(RemoteConfig(url=f"unix:{p['sock']}", api_key=token, request_timeout_s=300.0))
