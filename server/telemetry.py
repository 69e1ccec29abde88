"""Local acceptance telemetry: a JSON-lines file under $GHOSTWRIGHT_HOME, never sent anywhere.

Each shown suggestion and each acceptance is one line with its latency; ``ghostwright
stats`` summarizes them. Suggestion text is never written, only sizes and timings.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import numpy as np

from ghostwright.home import ghostwright_home


def stats_file() -> Path:
    return ghostwright_home() / "stats.jsonl"


class Telemetry:
    def __init__(self, enabled: bool, path: Path | None = None) -> None:
        self.enabled = enabled
        self.path = path or stats_file()
        self._lock = threading.Lock()

    def record(self, event: str, **fields: object) -> None:
        if not self.enabled:
            return
        line = json.dumps({"t": round(time.time(), 3), "event": event, **fields})
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as f:
                f.write(line + "\n")


def summarize(path: Path) -> dict[str, object]:
    shown = accepted = 0
    latencies: list[float] = []
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            if event.get("event") == "shown":
                shown += 1
                if isinstance(event.get("latency_ms"), (int, float)):
                    latencies.append(float(event["latency_ms"]))
            elif event.get("event") == "accepted":
                accepted += 1
    summary: dict[str, object] = {"shown": shown, "accepted": accepted,
                                  "acceptance_rate": round(accepted / shown, 3) if shown else None}
    if latencies:
        for p in (50, 90, 95, 99):
            summary[f"latency_p{p}_ms"] = round(float(np.percentile(latencies, p)), 1)
    return summary


def print_stats() -> int:
    path = stats_file()
    summary = summarize(path)
    print(f"stats file: {path}")
    for key, value in summary.items():
        print(f"{key:18s} {value}")
    return 0
