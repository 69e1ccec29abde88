"""Local stats: a file that cannot be written costs the stats, never the request that recorded them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ghostwright.server.telemetry import Telemetry, summarize


def test_an_unwritable_stats_file_is_reported_once_and_swallowed(tmp_path: Path) -> None:
    """Root ignores chmod, so the folder is made impossible instead: its parent is a regular file."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    told: list[str] = []
    telemetry = Telemetry(True, blocker / "home" / "stats.jsonl", on_error=told.append)
    for _ in range(3):
        telemetry.record("accepted", chars=3)  # no OSError out of here
    assert len(told) == 1 and str(blocker) in told[0] and telemetry.error == told[0]
    assert summarize(telemetry.path)["accepted"] == 0


def test_stats_that_become_writable_again_are_kept_and_a_later_failure_is_news(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.write_text("")  # a file where the folder should be
    told: list[str] = []
    telemetry = Telemetry(True, home / "stats.jsonl", on_error=told.append)
    telemetry.record("shown", latency_ms=5.0)
    home.unlink()  # fixed: the folder can be made now
    telemetry.record("accepted", chars=3)
    assert telemetry.error is None
    assert [json.loads(line)["event"] for line in telemetry.path.read_text().splitlines()] == ["accepted"]
    shutil.rmtree(home)
    home.write_text("")
    telemetry.record("accepted", chars=3)
    assert len(told) == 2
