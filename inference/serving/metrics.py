"""Prometheus metrics of one engine server: ``ghostwright_*``, base units, ``_total`` counters.

Labels never carry a user, a prompt or a key: route, finish reason, tier and the router's
reason only.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class Metrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.requests = Counter("ghostwright_requests", "Requests by route and how they ended",
                                ["route", "finish"], registry=r)
        self.refused = Counter("ghostwright_refused_requests", "Requests refused before decoding",
                               ["route", "status"], registry=r)
        self.prompt_tokens = Counter("ghostwright_prompt_tokens", "Prompt tokens of finished requests", registry=r)
        self.reused_tokens = Counter("ghostwright_reused_prompt_tokens",
                                     "Prompt tokens served from the prefix cache (not a model call)", registry=r)
        self.generated_tokens = Counter("ghostwright_generated_tokens", "Tokens decoded", registry=r)
        self.latency = Histogram("ghostwright_request_duration_seconds", "Request wall time", ["route"],
                                 buckets=LATENCY_BUCKETS, registry=r)
        self.first_token = Histogram("ghostwright_time_to_first_token_seconds", "Until the first text",
                                     ["route"], buckets=LATENCY_BUCKETS, registry=r)
        self.active = Gauge("ghostwright_active_requests", "Requests in the engine (queued or decoding)",
                            registry=r)
        self.tiers = Counter("ghostwright_tier_decisions", "Where the router sent requests", ["tier", "reason"],
                             registry=r)
        self.after_cancel = Histogram("ghostwright_tokens_after_disconnect",
                                      "Tokens decoded after a client went away", buckets=(0, 1, 2, 4, 8, 32),
                                      registry=r)

    def render(self) -> bytes:
        return generate_latest(self.registry)


def reason_label(reason: str) -> str:
    """The router's reason without numbers (labels must stay a small set)."""
    return reason.split("(")[0].split(":")[0].strip()[:40] or "none"
