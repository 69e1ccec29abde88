"""``ghostwright serve``: the language server over stdio (default) or TCP on loopback."""

from __future__ import annotations

import argparse
import logging

from ghostwright.engine_source import describe, resolve
from ghostwright.inference.api import Engine
from ghostwright.server.app import create_server
from ghostwright.server.settings import Settings

log = logging.getLogger(__name__)


def serve(args: argparse.Namespace) -> int:
    def engine_factory(settings: Settings) -> Engine:
        from ghostwright.inference import load_engine

        if settings.backend_url:
            log.warning("backendUrl is set but remote backends are not implemented yet; using the local model")
        source = resolve(args.model or settings.model or None, args.model_dir)  # EngineError names the fix
        log.info("loading %s", describe(source))
        device = args.device if args.device != "auto" else settings.device
        return load_engine(source, device=device)

    logging.getLogger("pygls").setLevel(logging.WARNING)  # it logs every message at INFO
    server = create_server(engine_factory)
    if args.tcp:
        server.start_tcp("127.0.0.1", args.tcp)
    else:
        server.start_io()
    return 0
