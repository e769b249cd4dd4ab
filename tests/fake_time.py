"""A fake clock for the HTTP layer's retry tests: time moves only when the client sleeps."""

from __future__ import annotations

from collections.abc import Callable

from jira_pm.jira.http import JiraHttp

BASE = "https://jira.example.test"
NOW = 1_800_000_000.0  # the fake wall clock: 2027-01-15T08:00:00Z


class FakeTime:
    """A monotonic clock that only moves when the injected sleep is called."""

    def __init__(self):
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def http_factory(fake_time: FakeTime, wall_clock: Callable[[], float]) -> Callable[..., JiraHttp]:
    """Builds JiraHttp clients on ``BASE`` that sleep and tell time through ``fake_time``."""

    def make(**kwargs) -> JiraHttp:
        kwargs.setdefault("max_retry_seconds", 60)
        return JiraHttp(BASE, sleep=fake_time.sleep, clock=fake_time.clock,
                        wall_clock=wall_clock, jitter=lambda: 0.25, **kwargs)
    return make
