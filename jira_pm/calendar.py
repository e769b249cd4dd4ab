"""The working calendar: the configured time zone, working days and holidays.

Every "N days" threshold of a rule counts working days of this calendar, and
every Jira date (due date, release date) is read as a day in its time zone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jira_pm.errors import ConfigError, UsageError

WEEKDAYS = (0, 1, 2, 3, 4)


@dataclass(frozen=True)
class WorkingCalendar:
    """Working days in one time zone; ``holidays`` are dates nobody works."""

    timezone: str = "UTC"
    working_days: tuple[int, ...] = WEEKDAYS
    holidays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if not set(self.working_days) & set(range(7)):
            raise ConfigError(
                "[calendar] working_days is empty",
                hint="list at least one day, e.g. working_days = [\"mon\", \"tue\"]",
            )

    @property
    def zone(self) -> ZoneInfo:
        return _zone(self.timezone)

    def is_working_day(self, day: date) -> bool:
        """True for a working weekday that is not a holiday."""
        return day.weekday() in self.working_days and day not in self.holidays

    def local_date(self, instant: datetime) -> date:
        """The calendar day ``instant`` falls on in the configured zone."""
        return instant.astimezone(self.zone).date()

    def start_of_day(self, day: date) -> datetime:
        """00:00 of ``day`` in the configured zone, as a UTC instant."""
        return datetime.combine(day, time.min, tzinfo=self.zone).astimezone(UTC)

    def end_of_day(self, day: date) -> datetime:
        """The last microsecond of ``day`` in the configured zone, as a UTC instant."""
        return self.start_of_day(day + timedelta(days=1)) - timedelta(microseconds=1)

    def add_working_days(self, day: date, count: int) -> date:
        """The date ``count`` working days after ``day`` (``day`` itself for 0; before it
        for a negative count).

        A deadline on a weekend plus one working day lands on the next working day.
        """
        current = day
        step = timedelta(days=1 if count >= 0 else -1)
        remaining = abs(count)
        while remaining > 0:
            current += step
            if self.is_working_day(current):
                remaining -= 1
        return current

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in the half-open range (start, end]; negative when end < start."""
        if end < start:
            return -self.working_days_between(end, start)
        # Whole weeks first so long ranges stay cheap.
        total = 0
        current = start
        weeks = (end - start).days // 7
        if weeks:
            per_week = len(set(self.working_days) & set(range(7)))
            total += weeks * per_week
            stop = start + timedelta(days=weeks * 7)
            total -= sum(
                1
                for holiday in self.holidays
                if start < holiday <= stop and holiday.weekday() in self.working_days
            )
            current = stop
        while current < end:
            current += timedelta(days=1)
            if self.is_working_day(current):
                total += 1
        return total

    def parse_as_of(self, text: str) -> datetime:
        """``--as-of``: a date means the end of that day here; else an ISO datetime.

        A datetime without an offset is read in the configured zone.
        """
        value = text.strip()
        try:
            if len(value) == 10:
                return self.end_of_day(date.fromisoformat(value))
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise UsageError(
                f"--as-of {text!r} is neither a date nor an ISO datetime",
                hint="use e.g. --as-of 2026-11-20 or --as-of 2026-11-20T17:00:00+01:00",
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self.zone)
        return moment.astimezone(UTC)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"[calendar] timezone {name!r} is not an IANA time zone",
            hint="use a name like \"Europe/Berlin\" or \"UTC\"",
        ) from None


def country_holidays(
    country: str | None, subdivision: str | None, years: Iterable[int]
) -> frozenset[date]:
    """Public holidays of a country (and subdivision) from the ``holidays`` package."""
    if not country:
        return frozenset()
    import holidays as holidays_package

    try:
        table = holidays_package.country_holidays(
            country, subdiv=subdivision or None, years=list(years)
        )
    except (NotImplementedError, KeyError) as exc:
        raise ConfigError(
            f"[calendar] holidays_country {country!r} / holidays_subdivision "
            f"{subdivision!r} is not known to the holidays package ({exc})",
            hint="use an ISO 3166 country code such as \"DE\" and a subdivision such as \"BE\"",
        ) from None
    return frozenset(table.keys())


def calendar_from_settings(settings, years: Iterable[int] | None = None) -> WorkingCalendar:
    """The calendar of ``settings.calendar`` (UTC weekdays when settings is None)."""
    section = getattr(settings, "calendar", None)
    if section is None:
        return WorkingCalendar()
    _zone(section.timezone)
    if years is None:
        this_year = datetime.now(UTC).year
        years = range(this_year - 5, this_year + 3)
    found = set(
        country_holidays(
            getattr(section, "holidays_country", None),
            getattr(section, "holidays_subdivision", None),
            years,
        )
    )
    found.update(getattr(section, "extra_holidays", ()) or ())
    return WorkingCalendar(
        timezone=section.timezone,
        working_days=tuple(section.working_days),
        holidays=frozenset(found),
    )
