"""The Monte Carlo forecast: hand-worked cases, no invented dates, reproducible with a seed."""

from __future__ import annotations

from datetime import date

from jira_pm.calendar import WorkingCalendar
from jira_pm.checks.testing import at, issue
from jira_pm.forecast import Throughput, forecast, throughput, window_days
from jira_pm.model import CATEGORY_DONE

CAL = WorkingCalendar()
MONDAY = date(2026, 6, 1)


def sampled(*counts):
    return Throughput(tuple(date(2026, 5, 1 + n) for n in range(len(counts))), counts)


def test_constant_throughput_gives_one_date_for_every_percentile():
    """Two issues every working day and 9 left: 5 working days, so Monday + 5 = next Monday."""
    result = forecast(9, sampled(2, 2, 2, 2), CAL, MONDAY)
    assert result.working_days == {50: 5, 85: 5, 95: 5}
    assert set(result.dates.values()) == {date(2026, 6, 8)}


def test_zero_throughput_gives_no_forecast():
    """A window with nothing resolved says 'no forecast' instead of inventing a date."""
    result = forecast(3, sampled(0, 0, 0), CAL, MONDAY)
    assert not result.available and result.dates == {}


def test_nothing_remaining_is_done_today():
    """No remaining work forecasts today at every percentile."""
    assert set(forecast(0, sampled(0, 1), CAL, MONDAY).dates.values()) == {MONDAY}


def test_alternating_throughput_worked_by_hand():
    """Days of 0 or 2 issues, 2 left: done on day d with probability 1 - 0.5**d,
    so p50 = 1, p85 = 3, p95 = 5."""
    result = forecast(2, sampled(0, 2), CAL, MONDAY, trials=20_000, seed=7)
    # P(done by 1) = .5, by 2 = .75, by 3 = .875, by 4 = .9375, by 5 = .96875
    assert result.working_days == {50: 1, 85: 3, 95: 5}


def test_same_seed_same_forecast_and_other_seed_may_differ():
    """A seeded forecast is reproducible run after run."""
    counts = sampled(0, 1, 3, 0, 2, 5, 0, 1)
    first = forecast(40, counts, CAL, MONDAY, seed=3)
    again = forecast(40, counts, CAL, MONDAY, seed=3)
    assert first.dates == again.dates
    assert first.dates[50] <= first.dates[85] <= first.dates[95]


def test_throughput_counts_working_days_and_rolls_weekends_forward():
    """A Saturday resolution counts for Monday; sub-tasks and unresolved issues never count."""
    def done(n, when, **kw):
        return issue(n, status="Done", status_category=CATEGORY_DONE, resolution="Done",
                     resolved_at=at(when), **kw)

    issues = [done(1, "2026-05-30T10:00"), done(2, "2026-05-29T10:00"),
              done(3, "2026-05-29T11:00", is_subtask=True), issue(4),
              done(5, "2026-05-20T10:00")]
    result = throughput(issues, CAL, at("2026-06-01T18:00"), 3)
    assert result.days == (date(2026, 5, 28), date(2026, 5, 29), date(2026, 6, 1))
    assert result.counts == (0, 1, 1)
    assert window_days(CAL, date(2026, 5, 31), 2) == [date(2026, 5, 28), date(2026, 5, 29)]
