"""Completion forecasts by Monte Carlo simulation of daily throughput.

The method of ActionableAgile and jira-agile-metrics: take how many issues the
project resolved on each of its last N working days, then simulate the
remaining work many times by drawing one of those days at random for every
future working day until the work is done. The 50th/85th/95th percentiles of
the simulated finishing days are the forecast. The random generator is seeded,
so a report (and OD003's verdict) is the same every time it is made.

Throughput is counted in issues (sub-tasks excluded), whatever the estimates
say: item counts are what the method samples, and they need no estimates.
Only working days of the calendar are sampled and simulated; a resolution on
a weekend or holiday counts for the next working day.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from jira_pm.calendar import WorkingCalendar
from jira_pm.model import Issue

PERCENTILES = (50, 85, 95)
DEFAULT_WINDOW = 30
DEFAULT_TRIALS = 10_000
DEFAULT_SEED = 1
# Simulated working days at most (ten years): beyond it a forecast says "no date".
HORIZON = 2_600
_BLOCK = 64  # days drawn at once per trial


@dataclass(frozen=True)
class Throughput:
    """Issues resolved on each of the last working days, oldest first."""

    days: tuple[date, ...]
    counts: tuple[int, ...]

    @property
    def total(self) -> int:
        return sum(self.counts)

    @property
    def per_day(self) -> float:
        return self.total / len(self.counts) if self.counts else 0.0


@dataclass(frozen=True)
class Forecast:
    """When ``remaining`` issues will be done: a date per percentile, or None.

    ``dates`` is empty when there is no forecast (nothing was resolved in the
    window); a percentile maps to None when its trials ran past the horizon.
    """

    remaining: int
    throughput: Throughput
    trials: int
    seed: int
    working_days: dict[int, int | None]
    dates: dict[int, date | None]

    @property
    def available(self) -> bool:
        return bool(self.dates)

    def date_at(self, percentile: int) -> date | None:
        return self.dates.get(percentile)


def window_days(calendar: WorkingCalendar, today: date, window: int) -> list[date]:
    """The last ``window`` working days up to ``today`` (included when it is one), oldest first."""
    found: list[date] = []
    day = today if calendar.is_working_day(today) else calendar.add_working_days(today, -1)
    while len(found) < max(window, 1):
        found.append(day)
        day = calendar.add_working_days(day, -1)
    found.reverse()
    return found


def throughput(
    issues: Iterable[Issue], calendar: WorkingCalendar, as_of: datetime, window: int
) -> Throughput:
    """Daily counts of ``issues`` resolved in the window of ``window`` working days to ``as_of``.

    The window opens at the end of the working day before its first day, so an
    issue resolved on the weekend before it counts for its first day.
    """
    days = window_days(calendar, calendar.local_date(as_of), window)
    start = calendar.end_of_day(calendar.add_working_days(days[0], -1))
    position = {day: n for n, day in enumerate(days)}
    counts = [0] * len(days)
    for issue in issues:
        if issue.is_subtask or issue.resolved_at is None or not issue.is_resolved:
            continue
        if not start < issue.resolved_at <= as_of:
            continue
        day = calendar.local_date(issue.resolved_at)
        if not calendar.is_working_day(day):
            day = calendar.add_working_days(day, 1)
        counts[position.get(day, len(days) - 1)] += 1
    return Throughput(tuple(days), tuple(counts))


def forecast(
    remaining: int,
    sampled: Throughput,
    calendar: WorkingCalendar,
    today: date,
    *,
    trials: int = DEFAULT_TRIALS,
    seed: int = DEFAULT_SEED,
    percentiles: tuple[int, ...] = PERCENTILES,
) -> Forecast:
    """The completion forecast of ``remaining`` issues at the sampled throughput.

    Day 1 of the simulation is the first working day after ``today``.
    """
    if remaining <= 0:
        days: dict[int, int | None] = dict.fromkeys(percentiles, 0)
    elif sampled.total == 0:
        days = {}
    else:
        days = dict(zip(percentiles, simulate(sampled.counts, remaining, trials, seed,
                                              tuple(percentiles)), strict=True))
    dates = {p: None if d is None else calendar.add_working_days(today, d)
             for p, d in days.items()}
    return Forecast(remaining, sampled, trials, seed, days, dates)


@lru_cache(maxsize=256)
def simulate(
    counts: tuple[int, ...], remaining: int, trials: int, seed: int, percentiles: tuple[int, ...]
) -> tuple[int | None, ...]:
    """Working days needed at each percentile (None past the horizon).

    The percentile is the smallest day by which that share of the trials was done.
    Cached: a report and OD003 ask the same question of the same throughput.
    """
    import numpy as np

    if len(set(counts)) == 1:  # every draw is the same: the answer is exact, no sampling
        needed = math.ceil(remaining / counts[0])
        return tuple(needed if needed <= HORIZON else None for _ in percentiles)
    rng = np.random.default_rng(seed)
    pool = np.asarray(counts, dtype=np.int64)
    finished = np.full(trials, HORIZON + 1, dtype=np.int64)
    done = np.zeros(trials, dtype=np.int64)
    day = 0
    while day < HORIZON:
        open_trials = finished > HORIZON
        if not open_trials.any():
            break
        block = min(_BLOCK, HORIZON - day)
        draws = rng.choice(pool, size=(trials, block))
        running = done[:, None] + np.cumsum(draws, axis=1)
        reached = running >= remaining
        any_reached = reached.any(axis=1)
        newly = open_trials & any_reached
        finished[newly] = day + reached[newly].argmax(axis=1) + 1
        done = running[:, -1]
        day += block
    values = np.percentile(finished, percentiles, method="inverted_cdf")
    return tuple(None if v > HORIZON else int(v) for v in values)
