"""The order the engine's worker takes jobs in: priority, then running before waiting, waiting
inline requests newest first (each editor's next keystroke cancels its old one), others in order."""

from __future__ import annotations

from ghostwright.inference.api import GenerationRequest, Priority, Prompt
from ghostwright.inference.engine import _Job


def job(seq: int, priority: Priority = Priority.INLINE, running: bool = False) -> _Job:
    j = _Job(GenerationRequest(Prompt(("x",)), priority=priority), seq=seq, submitted=0.0)
    j.running = running
    return j


def first(*jobs: _Job) -> int:
    return min(jobs, key=_Job.order).seq


def test_waiting_inline_requests_go_newest_first():
    assert first(job(1), job(2), job(3)) == 3


def test_a_running_request_is_not_overtaken_by_a_newer_one_of_its_priority():
    assert first(job(1, running=True), job(5)) == 1
    assert first(job(2, running=True), job(1, running=True), job(9)) == 1


def test_priority_comes_first_and_other_priorities_keep_their_order():
    assert first(job(1, Priority.BACKGROUND, running=True), job(2)) == 2
    assert first(job(1, Priority.INTERACTIVE), job(2, Priority.INTERACTIVE)) == 1
