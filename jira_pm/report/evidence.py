"""A finding's evidence for readers: names instead of person ids, instants in the local zone.

The checks record people by id (``by_person``) or by the name Jira gave then
(``added_by``), and instants as UTC ISO text. A person reading the CSV, or a
program reading the JSON, gets the same numbers with names and local times.
"""

from __future__ import annotations

from typing import Any

from jira_pm.report.lookup import Lookup, parse_instant

PEOPLE_MAPS = ("by_person",)  # evidence keys whose dict keys are person ids


def _is_person_field(key: str) -> bool:
    return key.endswith("_by") or key in ("author", "assignee", "person", "creator")


def _people_map(values: dict, lookup: Lookup) -> dict[str, Any]:
    """``{id: amount}`` as ``{name: amount}``; two people of one name keep their ids apart."""
    names = {pid: lookup.person(pid) or pid for pid in values}
    taken: dict[str, int] = {}
    for name in names.values():
        taken[name] = taken.get(name, 0) + 1
    return {(name if taken[name] == 1 else f"{name} ({pid})"): values[pid]
            for pid, name in names.items()}


def _convert(value: Any, lookup: Lookup, key: str, instant) -> Any:
    if isinstance(value, dict):
        if key in PEOPLE_MAPS:
            return _people_map(value, lookup)
        return {k: _convert(v, lookup, k, instant) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_convert(v, lookup, key, instant) for v in value]
    moment = parse_instant(value)
    if moment is not None:
        return instant(moment)
    if isinstance(value, str) and _is_person_field(key):
        return lookup.person(value)
    return value


def for_people(evidence: dict[str, Any], lookup: Lookup) -> dict[str, Any]:
    """Evidence with names for ids and instants as ``2026-11-12 11:00 CET``."""
    return {k: _convert(v, lookup, k, lookup.moment) for k, v in evidence.items()}


def for_programs(evidence: dict[str, Any], lookup: Lookup) -> dict[str, Any]:
    """Evidence with local ISO instants (to the second) and names *beside* the ids.

    ``by_person`` keeps its person ids (scripts may join on them) and gains
    ``by_person_names``, the same amounts keyed by display name.
    """
    converted = {k: _convert(v, lookup, k, lookup.iso) for k, v in evidence.items()
                 if k not in PEOPLE_MAPS}
    result: dict[str, Any] = {}
    for key, value in evidence.items():
        if key in PEOPLE_MAPS and isinstance(value, dict):
            result[key] = value
            result[f"{key}_names"] = _people_map(value, lookup)
        else:
            result[key] = converted[key]
    return result


def flat(value: Any) -> str:
    """One CSV cell: lists joined by "; ", an item as ``KEY (field value, ...)``."""
    if value is None:
        return ""
    if isinstance(value, dict):
        head = value.get("key")
        if head is None:  # a map such as by_person: "Alice Example: 20.0; Bob: 16.0"
            return "; ".join(f"{k}: {flat(v)}" for k, v in value.items())
        rest = ", ".join(f"{k} {flat(v)}" for k, v in value.items()
                         if k != "key" and v not in (None, "", [], {}))
        return f"{head} ({rest})" if rest else str(head)
    if isinstance(value, list | tuple):
        return "; ".join(flat(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)

