"""Instants, dates and durations as the sandbox stores and Jira renders them.

Instants are stored as integer milliseconds since the epoch (UTC): compact and
cheap to compare for 100,000 generated issues.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from zoneinfo import ZoneInfo

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([wdhm])", re.IGNORECASE)
# Jira's default time-tracking settings: a day is 8 hours, a week 5 days.
_UNIT_SECONDS = {"w": 5 * 8 * 3600, "d": 8 * 3600, "h": 3600, "m": 60}


def parse_instant(text: str | int | float | datetime | date) -> int:
    """Milliseconds since the epoch for an ISO-8601 instant or date (dates are UTC midnight)."""
    if isinstance(text, bool):
        raise ValueError(f"not an instant: {text!r}")
    if isinstance(text, int | float):
        return int(text)
    if isinstance(text, datetime):
        moment = text if text.tzinfo else text.replace(tzinfo=UTC)
        return int(moment.timestamp() * 1000)
    if isinstance(text, date):
        return int(datetime(text.year, text.month, text.day, tzinfo=UTC).timestamp() * 1000)
    value = text.strip()
    if len(value) == 10:
        value += "T00:00:00+00:00"
    value = value.replace("Z", "+00:00")
    # Jira's own +0000 offsets (no colon) are accepted too, so rendered values round-trip.
    value = re.sub(r"([+-]\d\d)(\d\d)$", r"\1:\2", value)
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def parse_day(text: str | date) -> str:
    """A calendar date as ``yyyy-mm-dd`` (validated)."""
    if isinstance(text, date):
        return text.isoformat()
    return date.fromisoformat(str(text).strip()).isoformat()


_DAYS: dict[int, str] = {}


def _utc_parts(ms: int) -> tuple[str, int, int, int]:
    # Every rendered date goes through here (hundreds per page): the calendar day is
    # cached, the time of day is plain arithmetic.
    day, second = divmod(ms // 1000, 86_400)
    text = _DAYS.get(day)
    if text is None:
        text = _DAYS[day] = time.strftime("%Y-%m-%d", time.gmtime(day * 86_400))
    hour, rest = divmod(second, 3600)
    return text, hour, rest // 60, rest % 60


_OFFSETS: dict[tuple[str, int], int] = {}


def _offset_ms(ms: int, tz: str) -> int:
    # Zone offsets change at most on whole hours: cache them per zone and UTC hour.
    key = (tz, ms // 3_600_000)
    offset = _OFFSETS.get(key)
    if offset is None:
        moment = datetime.fromtimestamp(ms / 1000, tz=UTC).astimezone(ZoneInfo(tz))
        offset = _OFFSETS[key] = int(moment.utcoffset().total_seconds() * 1000)
    return offset


def jira_timestamp(ms: int, tz: str = "UTC") -> str:
    """Jira's rendering of an instant in a user's zone: ``2026-11-20T11:00:00.000+0100``.

    Jira renders timestamps in the calling user's time zone, with the offset
    written without a colon.
    """
    if tz == "UTC":
        day, hour, minute, second = _utc_parts(ms)
        return f"{day}T{hour:02d}:{minute:02d}:{second:02d}.{ms % 1000:03d}+0000"
    offset = _offset_ms(ms, tz)
    day, hour, minute, second = _utc_parts(ms + offset)
    sign = "-" if offset < 0 else "+"
    off_h, off_m = divmod(abs(offset) // 60_000, 60)
    return (f"{day}T{hour:02d}:{minute:02d}:{second:02d}.{ms % 1000:03d}"
            f"{sign}{off_h:02d}{off_m:02d}")


def agile_timestamp(ms: int) -> str:
    """The sprint-date rendering Jira Software uses: ``2026-11-09T09:00:00.000Z``."""
    return time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(ms // 1000)) + f"{ms % 1000:03d}Z"


def http_date(ms: int) -> str:
    """An RFC 7231 HTTP date (for ``Retry-After``)."""
    return format_datetime(datetime.fromtimestamp(ms / 1000, tz=UTC), usegmt=True)


def parse_duration(text: str | int | float | None) -> int | None:
    """Seconds for a Jira duration (``"1w 2d 4h 30m"``, or a number of seconds)."""
    if text is None or text == "":
        return None
    if isinstance(text, int | float) and not isinstance(text, bool):
        return int(text)
    value = str(text).strip()
    if value.isdigit():
        return int(value)
    parts = _DURATION_PART.findall(value)
    if not parts or _DURATION_PART.sub("", value).strip():
        raise ValueError(f"not a Jira duration: {text!r} (use e.g. '1w 2d 4h 30m' or seconds)")
    return int(sum(float(n) * _UNIT_SECONDS[u.lower()] for n, u in parts))


def format_duration(seconds: int | None) -> str | None:
    """Jira's short duration text for seconds (``"2d 4h"``), or None."""
    if seconds is None:
        return None
    if seconds == 0:
        return "0m"
    parts = []
    rest = int(seconds)
    for unit in ("w", "d", "h", "m"):
        size = _UNIT_SECONDS[unit]
        if rest >= size:
            parts.append(f"{rest // size}{unit}")
            rest %= size
    return " ".join(parts) or "0m"


def days_after(day: str, n: int) -> str:
    """The ISO date ``n`` days after ``day``."""
    return (date.fromisoformat(day) + timedelta(days=n)).isoformat()
