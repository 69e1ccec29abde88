"""Start the real `ghostwright engine serve` as a subprocess on a free loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class EngineServer:
    process: subprocess.Popen
    url: str
    log: Path
    args: list[str]
    env: dict[str, str]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def restart(self) -> None:
        self.stop()
        fresh = launch(self.args, self.env, self.log, self.url)
        self.process = fresh.process

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def launch(args: list[str], env: dict[str, str], log: Path, url: str | None = None,
           timeout_s: float = 180.0) -> EngineServer:
    """``engine serve`` with ``args`` (model options, keys); waits until /health answers."""
    port = int(url.rsplit(":", 1)[1]) if url else free_port()
    url = url or f"http://127.0.0.1:{port}"
    with open(log, "ab") as out:
        process = subprocess.Popen([sys.executable, "-m", "ghostwright.cli", "-v", "engine", "serve",
                                    "--port", str(port), *args], stdout=out, stderr=out,
                                   env={**os.environ, **env, "PYTHONUNBUFFERED": "1"})
    server = EngineServer(process, url, log, args, env)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"engine serve exited with {process.returncode}:\n{server.output()[-3000:]}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"engine serve did not come up:\n{server.output()[-3000:]}")


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in a Prometheus text page (0 when absent); labels in any order."""
    import re

    for line in text.splitlines():
        if line.startswith("#"):
            continue
        head, _, value = line.rpartition(" ")
        sample, _, rest = head.partition("{")
        found = dict(re.findall(r'(\w+)="([^"]*)"', rest))
        if sample == name and found == labels:
            return float(value)
    return 0.0
