"""Changelog histories and worklogs → ``Change`` and ``Worklog``."""

from __future__ import annotations

from jira_pm.mapping.values import (
    as_int,
    map_person,
    parse_duration,
    parse_jira_datetime,
)
from jira_pm.model import Change, Worklog


def map_changelog(issue_id: int, histories: list[dict]) -> list[Change]:
    """Changelog histories (search ``changelog``, ``/changelog`` pages, bulkfetch) → Changes."""
    # Sync's hot loop (ten items an issue): Change tuples are built positionally with
    # tuple.__new__, and the sort is skipped when Jira already gave the histories in order.
    new = tuple.__new__
    changes: list[Change] = []
    append = changes.append
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
            get = item.get
            field_id = get("fieldId")
            source, source_text = get("from"), get("fromString")
            target, target_text = get("to"), get("toString")
            append(new(Change, (
                issue_id, history_id, index, at, author,
                str(get("field") or field_id or ""), field_id,
                None if source is None else str(source),
                None if source_text is None else str(source_text),
                None if target is None else str(target),
                None if target_text is None else str(target_text),
            )))
    # DC lists histories newest first on some versions; the store keeps them by id.
    if any(a[1:3] > b[1:3] for a, b in zip(changes, changes[1:], strict=False)):
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
