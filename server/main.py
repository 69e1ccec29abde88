"""``ghostwright serve``: the language server over stdio (default) or TCP on loopback."""

from __future__ import annotations

import argparse
import logging
import sys

from ghostwright.engine_source import Backend, build_engine
from ghostwright.inference.api import Engine
from ghostwright.server.app import create_server
from ghostwright.server.lsp_stdin import ResyncingStdin
from ghostwright.server.settings import Settings

log = logging.getLogger(__name__)


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
