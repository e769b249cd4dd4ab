"""The working calendar: zones, working days, holidays and --as-of."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest

from jira_pm.calendar import WorkingCalendar, calendar_from_settings
from jira_pm.errors import ConfigError, UsageError


def test_adding_working_days_skips_weekends_and_holidays():
    """Friday plus one working day is Monday, or Tuesday when Monday is a holiday."""
    cal = WorkingCalendar()
    assert cal.add_working_days(date(2026, 5, 29), 1) == date(2026, 6, 1)
    holiday = WorkingCalendar(holidays=frozenset({date(2026, 6, 1)}))
    assert holiday.add_working_days(date(2026, 5, 29), 1) == date(2026, 6, 2)
    assert cal.add_working_days(date(2026, 5, 30), 0) == date(2026, 5, 30)


def test_working_days_between_counts_half_open_ranges_over_many_weeks():
    """Working days in (start, end] match a day-by-day count, holidays excluded."""
    holidays = frozenset({date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 26)})
    cal = WorkingCalendar(holidays=holidays)
    start, end = date(2026, 11, 3), date(2027, 1, 20)
    expected = sum(
        1 for n in range(1, (end - start).days + 1)
        if cal.is_working_day(date.fromordinal(start.toordinal() + n))
    )
    assert cal.working_days_between(start, end) == expected
    assert cal.working_days_between(end, start) == -expected
    assert cal.working_days_between(start, start) == 0


def test_as_of_date_is_the_end_of_that_day_in_the_zone():
    """--as-of 2026-03-10 means 23:59:59.999999 Berlin time, i.e. 22:59:59 UTC."""
    cal = WorkingCalendar(timezone="Europe/Berlin")
    moment = cal.parse_as_of("2026-03-10")
    assert moment == datetime(2026, 3, 10, 22, 59, 59, 999999, tzinfo=UTC)
    assert cal.parse_as_of("2026-03-10T12:00:00Z") == datetime(2026, 3, 10, 12, tzinfo=UTC)
    assert cal.parse_as_of("2026-03-10T12:00") == datetime(2026, 3, 10, 11, tzinfo=UTC)


def test_bad_as_of_is_a_usage_error():
    """An unreadable --as-of is a one-line usage error."""
    with pytest.raises(UsageError, match="--as-of"):
        WorkingCalendar().parse_as_of("next tuesday")


def test_local_date_near_midnight_depends_on_the_zone():
    """23:30 UTC on 10 March is already 11 March in Berlin."""
    instant = datetime(2026, 3, 10, 23, 30, tzinfo=UTC)
    assert WorkingCalendar().local_date(instant) == date(2026, 3, 10)
    assert WorkingCalendar(timezone="Europe/Berlin").local_date(instant) == date(2026, 3, 11)


def test_settings_calendar_uses_country_holidays_and_listed_dates():
    """Country/subdivision holidays and the extra listed dates are non-working days."""
    section = SimpleNamespace(
        timezone="Europe/Berlin", working_days=(0, 1, 2, 3, 4), holidays_country="DE",
        holidays_subdivision="BE", extra_holidays=(date(2026, 12, 24),),
    )
    cal = calendar_from_settings(SimpleNamespace(calendar=section), years=[2026, 2027])
    assert cal.is_working_day(date(2026, 3, 9))  # an ordinary Monday
    assert not cal.is_working_day(date(2026, 3, 8))  # Sunday
    assert not cal.is_working_day(date(2026, 12, 25))  # Christmas Day, a Friday
    assert not cal.is_working_day(date(2027, 3, 8))  # Women's Day: Berlin only, a Monday
    assert not cal.is_working_day(date(2026, 12, 24))  # listed
    assert cal.is_working_day(date(2026, 12, 23))


def test_unknown_zone_or_country_is_a_config_error():
    """A bad time zone or holidays country names the [calendar] key."""
    bad_zone = SimpleNamespace(timezone="Mars/Olympus", working_days=(0,),
                               holidays_country=None, holidays_subdivision=None,
                               extra_holidays=())
    with pytest.raises(ConfigError, match="timezone"):
        calendar_from_settings(SimpleNamespace(calendar=bad_zone))
    bad_country = SimpleNamespace(timezone="UTC", working_days=(0,), holidays_country="XX",
                                  holidays_subdivision=None, extra_holidays=())
    with pytest.raises(ConfigError, match="holidays_country"):
        calendar_from_settings(SimpleNamespace(calendar=bad_country), years=[2026])
