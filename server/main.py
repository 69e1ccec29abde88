"""``ghostwright serve``: the language server over stdio (default) or TCP on loopback."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import BinaryIO

from ghostwright.engine_source import Backend, build_engine
from ghostwright.inference.api import Engine
from ghostwright.server.app import create_server
from ghostwright.server.settings import Settings

log = logging.getLogger(__name__)


class ResyncingStdin:
    """stdin for pygls' read loop, which finds a ``Content-Length`` header only at the start of a line.

    A body is one line with no newline at its end, so after any misframed message (a Content-Length shorter
    than its body, a misspelt or missing header) the loop reads the rest of that body and the next header as
    one line, misses the header, reads the next body the same way, and so on: the server is deaf for good.
    Cutting a line at its last ``Content-Length:`` loses only the misframed message; the next one is read.
    """

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream

    def readline(self) -> bytes:
        line = self._stream.readline()
        start = line.rfind(b"Content-Length:")
        return line[start:] if start > 0 else line

    def read(self, n: int) -> bytes:
        return self._stream.read(n)


def serve(args: argparse.Namespace) -> int:
    def engine_factory(settings: Settings) -> Engine:
        return build_engine(
            model=args.model or settings.model or None, model_dir=args.model_dir,
            device=args.device if args.device != "auto" else settings.device,
            backend=Backend(settings.backend_url, settings.backend_api_key, settings.backend_api_key_env,
                            settings.backend_model, settings.backend_fallback),
            shared=settings.shared_engine or args.shared, full_token_budget=settings.full_token_budget or None)

    logging.getLogger("pygls").setLevel(logging.WARNING)  # it logs every message at INFO
    server = create_server(engine_factory)
    if args.tcp:
        server.start_tcp("127.0.0.1", args.tcp)
    else:
        server.start_io(stdin=ResyncingStdin(sys.stdin.buffer))
    server.engines.close()  # also when the client just went away (no shutdown): a model still loading aborts the exit
    return server.exit_code
