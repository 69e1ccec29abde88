"""Run the engine server: TCP on loopback by default, or a Unix socket for the local daemon."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import time
from pathlib import Path
from typing import Any

import uvicorn

from ghostwright.errors import RequestError
from ghostwright.inference.serving.access import Access, load_keys, single_key
from ghostwright.inference.serving.app import build_app

log = logging.getLogger(__name__)


def token_from_file(path: Path) -> str:
    """The daemon's key: read, or created 0600 (only this user may talk to the engine)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        if path.stat().st_mode & 0o077:
            raise RequestError(f"{path}: readable by others; it must be 0600")
        return path.read_text(encoding="utf-8").strip()
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token)
    return token


def access_for(api_keys: str | None, token_file: str | None) -> Access:
    if api_keys and token_file:
        raise RequestError("--api-keys and --token-file are exclusive")
    if api_keys:
        return load_keys(Path(api_keys))
    if token_file:
        return single_key("local", token_from_file(Path(token_file)))
    return Access([])


def serve(engine: Any, *, host: str = "127.0.0.1", port: int = 8765, uds: str | None = None,
          access: Access, idle_exit_s: float | None = None, log_level: str = "warning") -> None:
    app = build_app(engine, access)
    config = uvicorn.Config(app, host=host, port=port, uds=uds, log_level=log_level, access_log=False,
                            timeout_graceful_shutdown=3)
    server = uvicorn.Server(config)
    if uds:
        Path(uds).parent.mkdir(parents=True, exist_ok=True)
        if Path(uds).exists():
            Path(uds).unlink()
        os.umask(0o077)  # the socket itself: this user only (the token is the second lock)
    state = app.state.engine_app

    async def main() -> None:
        task = asyncio.create_task(server.serve())
        while not task.done():
            await asyncio.sleep(1.0)
            idle = time.monotonic() - state.last_activity
            if idle_exit_s and idle > idle_exit_s and state.metrics.active._value.get() == 0:
                log.info("idle for %.0f s: exiting", idle)
                server.should_exit = True
        await task

    try:
        asyncio.run(main())
    finally:
        if uds and Path(uds).exists():
            Path(uds).unlink()
        engine.close()
