"""``ghostwright serve``: the language server over stdio (default) or TCP on loopback."""

from __future__ import annotations

import argparse
import logging

from ghostwright.engine_source import describe, resolve
from ghostwright.errors import EngineError
from ghostwright.export.catalogue import DEFAULT_PROFILE
from ghostwright.inference.api import Engine
from ghostwright.server.app import create_server
from ghostwright.server.settings import Settings

log = logging.getLogger(__name__)


def serve(args: argparse.Namespace) -> int:
    def engine_factory(settings: Settings) -> Engine:
        from ghostwright.inference import load_engine

        model = args.model or settings.model or None
        device = args.device if args.device != "auto" else settings.device

        def local() -> Engine:
            source = resolve(model, args.model_dir)  # EngineError names the fix
            log.info("loading %s", describe(source))
            return load_engine(source, device=device)

        if settings.backend_url:
            from ghostwright.inference.remote import RemoteConfig, connect
            from ghostwright.inference.remote.failover import FailoverEngine

            config = RemoteConfig.from_settings(settings.backend_url, settings.backend_api_key,
                                                settings.backend_api_key_env, settings.backend_model)
            engine = FailoverEngine(lambda: connect(config), local if settings.backend_fallback else None)
            if engine.status != "connected" and not settings.backend_fallback:
                raise EngineError(f"backendUrl: {engine.last_error}")
            return engine
        if settings.shared_engine or args.shared:
            from ghostwright.inference.remote.failover import FailoverEngine
            from ghostwright.shared_engine import connect_shared

            name = model or DEFAULT_PROFILE
            engine = FailoverEngine(lambda: connect_shared(name, args.model_dir, device))
            if engine.status != "connected":
                raise EngineError(f"the shared engine: {engine.last_error}")
            return engine
        return local()

    logging.getLogger("pygls").setLevel(logging.WARNING)  # it logs every message at INFO
    server = create_server(engine_factory)
    if args.tcp:
        server.start_tcp("127.0.0.1", args.tcp)
    else:
        server.start_io()
    return 0
