"""Write-back workers: a kill in one worker while another's write has just finished."""

from __future__ import annotations

import threading
import time

from jira_pm.writeback.failures import ProjectGate
from jira_pm.writeback.workers import LedgerDesk, perform_all


class Kill(BaseException):
    """Stands in for a kill (not an Exception): the run stops as a kill leaves it."""


def test_a_kill_while_another_write_has_just_finished_stops_instead_of_hanging():
    """A kill in one worker, with another worker's finished write queued, raises at once."""
    desk = LedgerDesk()
    kill_seen = threading.Event()

    def step(index: int) -> str:
        if index == 0:
            raise Kill
        kill_seen.wait(5)  # finish while the main thread handles the kill
        return "ok"

    def on_finished(count: int) -> None:
        if not kill_seen.is_set():  # the kill's event: wait for the other write's to be queued
            kill_seen.set()
            deadline = time.monotonic() + 5
            while desk.events.qsize() == 0 and time.monotonic() < deadline:
                time.sleep(0.001)

    outcome: list[BaseException] = []

    def perform() -> None:
        try:
            perform_all([1, 2], ProjectGate(["ABC-1", "ABC-2"]), step, parallel=2, desk=desk,
                        on_finished=on_finished)
        except BaseException as exc:  # the Kill is what we expect
            outcome.append(exc)

    runner = threading.Thread(target=perform, daemon=True)
    runner.start()
    runner.join(10)
    assert not runner.is_alive(), "perform_all hung after the kill"
    assert len(outcome) == 1 and isinstance(outcome[0], Kill)
