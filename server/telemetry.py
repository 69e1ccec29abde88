"""Local acceptance telemetry: a JSON-lines file under $GHOSTWRIGHT_HOME, never sent anywhere.

Each shown suggestion and each acceptance is one line with its latency; ``ghostwright
stats`` summarizes them. Suggestion text is never written, only sizes and timings.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ghostwright.home import ghostwright_home

log = logging.getLogger(__name__)


def stats_file() -> Path:
    return ghostwright_home() / "stats.jsonl"


class Telemetry:
    def __init__(self, enabled: bool, path: Path | None = None,
                 on_error: Callable[[str], None] | None = None) -> None:
        self.enabled = enabled
        self.path = path or stats_file()
        self.on_error = on_error  # told once when the stats stop being written (the user should know why)
        self.error: str | None = None  # why the last write failed; None while stats are being kept
        self._lock = threading.Lock()

    def record(self, event: str, **fields: object) -> None:
        """Append one event. A stats file that cannot be written (a read-only or misplaced
        GHOSTWRIGHT_HOME, a full disk) costs the stats only: the completion or accept that
        recorded it must still answer, so the OSError is reported once and swallowed."""
        if not self.enabled:
            return
        line = json.dumps({"t": round(time.time(), 3), "event": event, **fields})
        with self._lock:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("a", encoding="utf-8") as f:
                    f.write(line + "\n")
            except OSError as exc:
                first = self.error is None
                self.error = f"local stats are not being kept: cannot write {self.path} ({exc.strerror or exc})"
                if first:
                    log.warning("%s", self.error)
                    if self.on_error is not None:
                        self.on_error(self.error)
                return
            self.error = None  # writable again (say, the folder was fixed): a later failure is news again


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
