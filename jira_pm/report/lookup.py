"""What the audit outputs need to speak to people: issue keys, display names, the zone.

Findings carry issue ids and account ids (stable across moves and renames, so
the checks and the store use them); people read keys and names. The checks stay
as they are: the outputs translate through a ``Lookup`` built once from the store.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo

from jira_pm.words import local, moment_text

# An ISO 8601 instant as the checks write them (``datetime.isoformat()``):
# a date alone ("2026-11-10") is a day, not an instant, and stays as it is.
_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")


@dataclass(frozen=True)
class Lookup:
    """Issue id → key, person id → display name, the calendar's zone and the site's URL."""

    issue_keys: Mapping[int, str] = field(default_factory=dict)
    people: Mapping[str, str] = field(default_factory=dict)
    zone: tzinfo = UTC
    site_url: str | None = None

    def key(self, issue_id: int | str) -> str:
        """The issue's key; an issue the store no longer holds is named as such, not by id."""
        try:
            return self.issue_keys[int(issue_id)]
        except (KeyError, ValueError):
            return "(issue no longer in the store)"

    def keys(self, issue_ids: Iterable[int]) -> list[str]:
        return [self.key(i) for i in issue_ids]

    def person(self, person_id: str | None) -> str | None:
        """The display name of an account id (Cloud) or user name (Server); else the id."""
        if person_id is None:
            return None
        return self.people.get(person_id, person_id)

    def link(self, key: str) -> str | None:
        """``{url}/browse/KEY``, or None without a site URL."""
        return f"{self.site_url.rstrip('/')}/browse/{key}" if self.site_url else None

    def moment(self, instant: datetime) -> str:
        """An instant for a person: local minute and zone (``2026-11-20 23:59 CET``)."""
        return moment_text(instant, self.zone)

    def iso(self, instant: datetime) -> str:
        """An instant for a program: ISO 8601 in the local zone, to the second."""
        return local(instant, self.zone).replace(microsecond=0).isoformat()


def parse_instant(text: object) -> datetime | None:
    """``text`` as an aware datetime when it is an ISO instant, else None (dates stay dates)."""
    if not isinstance(text, str) or not _INSTANT.match(text):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def lookup_from_store(conn, settings, *, names: bool = True) -> Lookup:
    """Keys of every stored issue and the latest display name seen for each person.

    ``names=False``: only the zone and the site's URL, for an output that names no
    issue and no person (the table); at a million issues the names take a scan of
    ten million changelog items.
    """
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(settings.calendar.timezone)
    if not names:
        return Lookup(zone=zone, site_url=settings.jira.url)
    keys = dict(conn.execute("SELECT id, key FROM issues"))
    people: dict[str, str] = {}
    # Later sources overwrite earlier ones: the assignee and creator names are as of
    # the last sync, changelog and worklog names as of when they were written.
    for table, id_col, name_col in (("changes", "author_id", "author_name"),
                                    ("worklogs", "author_id", "author_name"),
                                    ("issues", "creator_id", "creator_name"),
                                    ("issues", "assignee_id", "assignee_name")):
        people.update(conn.execute(
            f"SELECT DISTINCT {id_col}, {name_col} FROM {table} "  # noqa: S608 - fixed names
            f"WHERE {id_col} IS NOT NULL AND {name_col} IS NOT NULL AND {name_col} != ''"))
    return Lookup(issue_keys=keys, people=people, zone=zone, site_url=settings.jira.url)
