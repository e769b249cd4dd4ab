"""Instants, dates and durations as the sandbox stores and Jira renders them.

Instants are stored as integer milliseconds since the epoch (UTC): compact and
cheap to compare for 100,000 generated issues.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable
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


# Every rendered instant goes through jira_timestamp (about a thousand per search page), so
# it is assembled from cached pieces: the date and hour per hour, minutes and seconds from a
# table, milliseconds from a table. Six times faster than formatting each part.
_HOURS: dict[int, str] = {}  # hours since the epoch -> "yyyy-MM-ddTHH:"
_MINUTE_SECOND = [f"{s // 60:02d}:{s % 60:02d}." for s in range(3600)]
_MILLIS = [f"{m:03d}" for m in range(1000)]
CACHE_LIMIT = 500_000


def _hour_prefix(hour: int) -> str:
    if len(_HOURS) > CACHE_LIMIT:
        _HOURS.clear()
    prefix = _HOURS[hour] = time.strftime("%Y-%m-%dT%H:", time.gmtime(hour * 3600))
    return prefix


def _local_text(ms: int) -> str:
    """``yyyy-MM-ddTHH:mm:ss.SSS`` of ``ms`` read as UTC."""
    hour, rest = divmod(ms, 3_600_000)
    prefix = _HOURS.get(hour) or _hour_prefix(hour)
    return f"{prefix}{_MINUTE_SECOND[rest // 1000]}{_MILLIS[rest % 1000]}"


def _utc_timestamp(ms: int) -> str:
    # _local_text inlined: UTC is what most callers use, and this runs a thousand times a page.
    hour, rest = divmod(ms, 3_600_000)
    prefix = _HOURS.get(hour) or _hour_prefix(hour)
    return f"{prefix}{_MINUTE_SECOND[rest // 1000]}{_MILLIS[rest % 1000]}+0000"


_OFFSETS: dict[tuple[str, int], tuple[int, str] | None] = {}
_HOUR_MS = 3_600_000


def _zone_offset(ms: int, tz: str) -> tuple[int, str]:
    """(offset in ms, ``+hhmm``) of zone ``tz`` at instant ``ms``."""
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC).astimezone(ZoneInfo(tz))
    offset = int(moment.utcoffset().total_seconds() * 1000)
    sign = "-" if offset < 0 else "+"
    hours, minutes = divmod(abs(offset) // 60_000, 60)
    return offset, f"{sign}{hours:02d}{minutes:02d}"


def _offset(ms: int, tz: str) -> tuple[int, str]:
    # Cached per zone and UTC hour when the offset is the same at both ends of the hour.
    # Zones change offset on whole, half or quarter hours of UTC (Lord Howe at 15:30) and
    # a few on odd minutes (Casey at 16:01, St. John's at 03:31 until 2011): in an hour
    # holding a change, each instant is computed on its own.
    key = (tz, ms // _HOUR_MS)
    if key in _OFFSETS:
        found = _OFFSETS[key]
    else:
        if len(_OFFSETS) > CACHE_LIMIT:
            _OFFSETS.clear()
        start = key[1] * _HOUR_MS
        first = _zone_offset(start, tz)
        found = _OFFSETS[key] = first if first == _zone_offset(start + _HOUR_MS - 1, tz) \
            else None
    return found or _zone_offset(ms, tz)


def jira_timestamp(ms: int, tz: str = "UTC") -> str:
    """Jira's rendering of an instant in a user's zone: ``2026-11-20T11:00:00.000+0100``.

    Jira renders timestamps in the calling user's time zone, with the offset
    written without a colon.
    """
    if tz == "UTC":
        return _utc_timestamp(ms)
    offset, text = _offset(ms, tz)
    return _local_text(ms + offset) + text


def timestamp_function(tz: str) -> Callable[[int], str]:
    """jira_timestamp for one zone, as one direct call (renderers call it per instant)."""
    if tz == "UTC":
        return _utc_timestamp
    return functools.partial(jira_timestamp, tz=tz)


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


_DURATIONS: dict[int, str] = {}


def format_duration(seconds: int | None) -> str | None:
    """Jira's short duration text for seconds (``"2d 4h"``), or None."""
    if seconds is None:
        return None
    # Worklogs and estimates repeat a few values (1h, 1d, 2d 4h...): each is built once.
    text = _DURATIONS.get(seconds)
    if text is None:
        if len(_DURATIONS) > CACHE_LIMIT:
            _DURATIONS.clear()
        text = _DURATIONS[seconds] = _duration_text(seconds)
    return text


def _duration_text(seconds: int) -> str:
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
