"""A finding's evidence as short lines a person reads: names, dates, hours, no raw JSON.

Used by the report's findings table and by `jira-pm explain`. It renders any
check's evidence generically (keys as words, ISO dates and instants as dates,
person ids as display names); a check-specific wording of the same facts is
the comment sentences' job (``writeback.comments``), which can replace
``evidence_lines`` here once it offers one public function for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, tzinfo
from typing import Any

from jira_pm.model import Site
from jira_pm.words import day_text, moment_text

# Evidence keys a person does not need (the message or the table already says them).
_SKIP = frozenset({"today", "measure_configured", "seed", "trials"})
_PEOPLE_KEYS = frozenset({"by_person"})


def people_names(site: Site) -> dict[str, str]:
    """Account id (or DC user name) -> display name, from everyone the store knows."""
    names: dict[str, str] = {}
    for issue in site.issues.values():
        for person in (issue.assignee, issue.creator):
            if person is not None and person.display_name:
                names[person.id] = person.display_name
        for worklog in issue.worklogs:
            if worklog.author is not None and worklog.author.display_name:
                names[worklog.author.id] = worklog.author.display_name
    return names


def value_text(value: Any, zone: tzinfo | None, names: Mapping[str, str] | None = None) -> str:
    """One evidence value as words: dates and instants readable, numbers without noise."""
    names = names or {}
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, str):
        return _text(value, zone, names)
    if isinstance(value, Mapping):
        return ", ".join(f"{_text(str(k), zone, names)}: {value_text(v, zone, names)}"
                         for k, v in value.items())
    if isinstance(value, list | tuple):
        if value and all(isinstance(item, Mapping) for item in value):
            return "; ".join(_record(item, zone, names) for item in value)
        return ", ".join(value_text(item, zone, names) for item in value) or "none"
    return str(value)


def _text(text: str, zone: tzinfo | None, names: Mapping[str, str]) -> str:
    if len(text) == 10 and text[4:5] == "-" and text[7:8] == "-":
        try:
            return day_text(date.fromisoformat(text))
        except ValueError:
            return text
    if len(text) > 10 and text[10:11] == "T":
        try:
            return moment_text(datetime.fromisoformat(text), zone)
        except ValueError:
            return text
    return names.get(text, text)


def _record(item: Mapping[str, Any], zone: tzinfo | None, names: Mapping[str, str]) -> str:
    """A dict of a list ("added": [{"key": ..., "added_at": ...}]) as one phrase."""
    head = item.get("key")
    rest = ", ".join(f"{k.replace('_', ' ')} {value_text(v, zone, names)}"
                     for k, v in item.items() if k != "key" and v is not None)
    return f"{head} ({rest})" if head else rest


def evidence_lines(evidence: Mapping[str, Any], zone: tzinfo | None,
                   names: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
    """(what, value) pairs for every evidence entry worth showing, in the check's order."""
    lines = []
    for key, value in evidence.items():
        if key in _SKIP or value is None or value == [] or value == {}:
            continue
        if key in _PEOPLE_KEYS and isinstance(value, Mapping):
            value = {(names or {}).get(k, k): v for k, v in value.items()}
        lines.append((key.replace("_", " "), value_text(value, zone, names)))
    return lines
