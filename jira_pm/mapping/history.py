"""Changelog histories and worklogs → ``Change`` and ``Worklog``."""

from __future__ import annotations

from jira_pm.mapping.values import (
    as_int,
    as_text,
    map_person,
    parse_duration,
    parse_jira_datetime,
)
from jira_pm.model import Change, Worklog


def map_changelog(issue_id: int, histories: list[dict]) -> list[Change]:
    """Changelog histories (search ``changelog``, ``/changelog`` pages, bulkfetch) → Changes."""
    changes: list[Change] = []
    for position, history in enumerate(histories or []):
        history_id = as_int(history.get("id"))
        if history_id is None:
            # Seen in the wild; a negative position keeps the items and cannot clash with Jira ids.
            history_id = -(position + 1)
        at = parse_jira_datetime(history.get("created"))
        if at is None:
            continue
        author = map_person(history.get("author"))
        for index, item in enumerate(history.get("items") or []):
            changes.append(
                Change(
                    issue_id=issue_id,
                    history_id=history_id,
                    item_index=index,
                    at=at,
                    author=author,
                    field=str(item.get("field") or item.get("fieldId") or ""),
                    field_id=item.get("fieldId"),
                    from_value=as_text(item.get("from")),
                    from_string=as_text(item.get("fromString")),
                    to_value=as_text(item.get("to")),
                    to_string=as_text(item.get("toString")),
                )
            )
    # DC lists histories newest first on some versions; the store keeps them by id.
    changes.sort(key=lambda c: (c.history_id, c.item_index))
    return changes




def map_worklog(issue_id: int, raw: dict) -> Worklog:
    """One worklog; seconds from ``timeSpentSeconds``, else ``minutesSpent`` or ``timeSpent``."""
    seconds = as_int(raw.get("timeSpentSeconds"))
    if seconds is None and raw.get("minutesSpent") is not None:
        seconds = int(raw["minutesSpent"]) * 60
    if seconds is None:
        seconds = parse_duration(raw.get("timeSpent")) or 0
    started = parse_jira_datetime(raw.get("started")) or parse_jira_datetime(raw.get("created"))
    return Worklog(
        id=int(raw["id"]),
        issue_id=int(raw.get("issueId") or issue_id),
        author=map_person(raw.get("author")),
        started=started,
        seconds=seconds,
        updated=parse_jira_datetime(raw.get("updated")),
    )
