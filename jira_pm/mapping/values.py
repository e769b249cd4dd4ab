"""Jira's scalar values: timestamps, dates, durations, numbers, users."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from jira_pm.model import Person

_OFFSET_NO_COLON = re.compile(r"([+-]\d\d)(\d\d)$")


def parse_jira_datetime(text: Any) -> datetime | None:
    """A Jira timestamp as an aware UTC datetime; None for null, "" or Agile's ``<null>``.

    Accepts ``+0000`` / ``-0700`` (no colon, as Jira sends), ``+00:00``, ``Z``,
    with or without milliseconds or seconds. A naive text is taken as UTC.
    """
    if text is None:
        return None
    if type(text) is str and text[-5:-4] in "+-" and len(text) > 19:
        # Jira's own form ("2026-11-21T10:00:00.000+0000"), nearly every value: straight to C.
        try:
            return datetime.fromisoformat(text).astimezone(UTC)
        except ValueError:
            pass  # the careful path below says what is wrong
    if isinstance(text, datetime):
        value = text
    else:
        text = str(text).strip()
        if not text or text == "<null>":
            return None
        try:
            # Python 3.11+ reads "+0000", "Z" and short forms itself, 15× faster than a regex.
            value = datetime.fromisoformat(text)
        except ValueError:
            fixed = _OFFSET_NO_COLON.sub(r"\1:\2", text[:-1] + "+00:00" if text.endswith("Z")
                                         else text)
            try:
                value = datetime.fromisoformat(fixed)
            except ValueError as exc:
                raise ValueError(f"not a Jira timestamp: {text!r}") from exc
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse_jira_date(text: Any) -> date | None:
    """A Jira date field (``2026-11-21``) as a date; None when empty."""
    if text is None or text == "":
        return None
    text = str(text)
    if len(text) > 10:  # a datetime in a date field (or DC's "2012-04-12 00:00:00.0")
        text = text[:10]
    return date.fromisoformat(text)


def as_int(value: Any) -> int | None:
    """An id or count given as a number or string ("10008", 3.0) as int; None when empty."""
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return int(float(value))


def as_text(value: Any) -> str | None:
    """Jira's ids and strings as text (ids come as strings or numbers); None stays None."""
    return None if value is None else str(value)


def as_float(value: Any) -> float | None:
    """A number field (story points, budget) as float; None when empty or not a number."""
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def map_person(raw: Any) -> Person | None:
    """A user object → Person: Cloud ``accountId``, else DC ``name`` (then ``key``)."""
    if not isinstance(raw, dict):
        return None
    ident = raw.get("accountId") or raw.get("name") or raw.get("key")
    if not ident:
        return None  # a deleted / anonymised user carries no id worth keeping
    name = raw.get("displayName")
    if not isinstance(name, str | None):
        return Person(id=str(ident), display_name=name)
    # A page names the same few people hundreds of times: share one (immutable) Person each.
    found = _PEOPLE.get((ident, name))
    if found is None:
        if len(_PEOPLE) >= _PEOPLE_MAX:
            _PEOPLE.clear()
        found = _PEOPLE[(ident, name)] = Person(id=str(ident), display_name=name)
    return found


_PEOPLE: dict[tuple[Any, Any], Person] = {}
_PEOPLE_MAX = 10_000


_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([wdhm])")
# Jira's default time tracking: 1w = 5d, 1d = 8h (used only when seconds are absent).
_UNIT_SECONDS = {"w": 5 * 8 * 3600, "d": 8 * 3600, "h": 3600, "m": 60}


def parse_duration(text: Any) -> int | None:
    """Jira's human duration ("1d 2h", "18w 2d", "30m") in seconds, default 8h days."""
    if not text:
        return None
    parts = _DURATION.findall(str(text))
    if not parts:
        return None
    return int(sum(float(n) * _UNIT_SECONDS[unit] for n, unit in parts))
