"""workspace/executeCommand: ghostwright.accept, ghostwright.status, ghostwright.stats;
and the ghostwright/didShowCompletion notification from clients that report what they show."""

from __future__ import annotations

from typing import Any

from lsprotocol import types

from ghostwright.server.completion.accept import ACCEPT_COMMAND
from ghostwright.server.telemetry import summarize

SHOWN_NOTIFICATION = "ghostwright/didShowCompletion"


def _first(args: tuple[Any, ...]) -> dict[str, Any]:
    if args and isinstance(args[0], dict):
        return args[0]
    return {}


def register(server) -> None:
    @server.command(ACCEPT_COMMAND)
    def accept(ls, *args: Any) -> None:
        server.telemetry.record("accepted", chars=_first(args).get("chars"))

    @server.command("ghostwright.status")
    def status(ls, *args: Any) -> dict[str, Any]:
        engine = server.engines.engine
        info = engine.info() if engine is not None else None
        return {
            "model": info.name if info else server.settings.model,
            "loaded": engine is not None,
            "error": server.engines.error,
            "device": info.device if info else None,
            "tiers": list(info.tiers) if info else [],
            "fim": info.fim if info else None,
            "lastLatencyMs": server.last_latency_ms,
            "modelCalls": server.completions.model_calls,
            "completedModelCalls": server.completions.completed_calls,
            "promptTokens": server.completions.prompt_tokens,
            "prefilledTokens": server.completions.prefilled_tokens,
            "typedAheadHits": server.typed_ahead.hits,
            "indexedFiles": len(server.index.indexed_paths()) if server.index is not None else None,
            "indexScanned": server.index.wait(0) if server.index is not None else None,  # the first scan ended
            "engine": engine.stats() if engine is not None else None,
            "memory": process_memory(),
            "inFlight": len(ls.protocol._request_futures),  # handlers still running: a leak shows as growth
            "statsError": server.telemetry.error,  # why local stats are not being kept, if they are not
        }

    @server.command("ghostwright.stats")
    def stats(ls, *args: Any) -> dict[str, Any]:
        return summarize(server.telemetry.path)

    @server.feature(SHOWN_NOTIFICATION)
    def did_show(ls, params: Any) -> None:
        latency = getattr(params, "latencyMs", None)
        server.telemetry.record("shown", latency_ms=latency, source="client")

    # Advertise the commands so clients can offer them.
    server.command_names = [ACCEPT_COMMAND, "ghostwright.status", "ghostwright.stats"]
    _ = types  # lsprotocol types are used by the decorators' registrations


def process_memory() -> dict[str, float] | None:
    """The server's resident memory now and at its peak, in MB (Linux; None elsewhere)."""
    try:
        with open("/proc/self/status", encoding="utf-8") as status:
            fields = dict(line.split(":", 1) for line in status if line.startswith(("VmRSS", "VmHWM")))
    except OSError:
        return None
    if len(fields) < 2:
        return None
    return {"rssMb": int(fields["VmRSS"].split()[0]) / 1024, "peakRssMb": int(fields["VmHWM"].split()[0]) / 1024}
