"""Words for people: counts with the right plural, dates and instants as a person reads them.

Every line jira-pm prints for a person (CLI output, comments, the report) takes
its plurals and dates from here, so "1 sprints" or a raw ISO timestamp with
microseconds cannot creep back in one command at a time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo

# Nouns whose plural is not the singular + "s".
_IRREGULAR = {
    "entry": "entries", "history": "histories", "person": "people", "is": "are",
    "was": "were", "has": "have", "this": "these", "property": "properties",
}


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """``"1 issue"``, ``"2 issues"``, ``"0 issues"``; ``plural_form`` for irregular words."""
    return f"{count:,} {noun(count, singular, plural_form)}"


def noun(count: int, singular: str, plural_form: str | None = None) -> str:
    """The word alone, singular for exactly one: ``noun(3, "sprint")`` is ``"sprints"``."""
    if count == 1:
        return singular
    if plural_form:
        return plural_form
    if singular in _IRREGULAR:
        return _IRREGULAR[singular]
    if singular.endswith(("s", "x", "ch", "sh")):
        return singular + "es"
    if singular.endswith("y") and singular[-2:-1] not in tuple("aeiou"):
        return singular[:-1] + "ies"
    return singular + "s"


def local(instant: datetime, zone: tzinfo | None) -> datetime:
    """``instant`` in ``zone`` (a naive instant is taken as UTC)."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(zone or UTC)


def day_text(day: date | datetime, zone: tzinfo | None = None) -> str:
    """A date as a person reads it: ``"Tue 10 Nov 2026"`` (an instant is taken in ``zone``)."""
    if isinstance(day, datetime):
        day = local(day, zone).date()
    return f"{day:%a} {day.day} {day:%b %Y}"


def moment_text(instant: datetime, zone: tzinfo | None = None) -> str:
    """An instant to the minute in ``zone``, no microseconds: ``"2026-11-21 10:05 CET"``."""
    shown = local(instant, zone)
    name = shown.tzname() or ""
    if name and not name[0].isalpha():  # zones without an abbreviation give "+0530"
        name = f"UTC{name[:3]}:{name[3:]}" if len(name) == 5 else f"UTC{name}"
    return f"{shown:%Y-%m-%d %H:%M} {name}".rstrip()
