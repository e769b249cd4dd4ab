"""Domain data in the store: issues (with changes, worklogs, links), versions, sprints, statuses.

Writers upsert by Jira id and never commit on their own when a transaction is
open, so sync can put a page of issues and its checkpoint in one transaction.
``load_site`` (the reader, in ``store.site``) is re-exported here.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from jira_pm import jsontext
from jira_pm.model import Change, Issue, Sprint, Version
from jira_pm.store.schema import FULL_SYNC_DUE, transaction
from jira_pm.store.site import load_site
from jira_pm.store.sync_state import (
    SyncState,
    delete_meta,
    get_meta,
    get_sync_state,
    set_meta,
    set_sync_state,
)

__all__ = [
    "FULL_SYNC_DUE",
    "SyncState",
    "count_issues_by_project",
    "delete_issues",
    "delete_meta",
    "get_meta",
    "get_sync_state",
    "issue_ids",
    "load_site",
    "replace_changes",
    "save_issues",
    "save_sprints",
    "save_statuses",
    "save_versions",
    "set_meta",
    "set_sync_state",
    "transaction",
]

# SQLite's default limit on host parameters is 32766 (3.32+); stay well below.
_CHUNK = 900

# The upsert SQLite and PostgreSQL share (sqlite's INSERT OR REPLACE has no PostgreSQL twin).
UPSERT_CHANGE = (
    "INSERT INTO changes VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
    " ON CONFLICT(issue_id, history_id, item_index) DO UPDATE SET at=excluded.at,"
    " author_id=excluded.author_id, author_name=excluded.author_name, field=excluded.field,"
    " field_id=excluded.field_id, from_value=excluded.from_value,"
    " from_string=excluded.from_string, to_value=excluded.to_value, to_string=excluded.to_string"
)


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


def _slim_raw(raw: dict) -> str:
    """The issue JSON without changelog and inline worklogs (those have their own tables)."""
    slim = {k: v for k, v in raw.items() if k != "changelog"}
    fields = slim.get("fields")
    if isinstance(fields, dict) and "worklog" in fields:
        slim["fields"] = {k: v for k, v in fields.items() if k != "worklog"}
    return jsontext.dumps(slim)


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _delete_children(conn: sqlite3.Connection, ids: Sequence[int]) -> None:
    for chunk in _chunks(ids):
        marks = ",".join("?" * len(chunk))
        for table in ("changes", "worklogs", "issue_versions", "issue_sprints"):
            conn.execute(f"DELETE FROM {table} WHERE issue_id IN ({marks})", chunk)


def save_issues(
    conn: sqlite3.Connection,
    issues: list[Issue],
    raw: dict[int, dict] | list[dict],
    synced_at: datetime,
) -> None:
    """Upsert issues by id, replacing their changes, worklogs and version/sprint links.

    Each issue's ``changes`` and ``worklogs`` must be complete: what the store
    held before for that issue is replaced, not merged.
    """
    if not issues:
        return
    raw_by_id = raw if isinstance(raw, dict) else {int(r["id"]): r for r in raw}
    synced = _iso(synced_at)
    ids = [issue.id for issue in issues]
    with transaction(conn):
        renamed = _renamed_keys(conn, issues)
        _delete_children(conn, ids)
        conn.executemany(
            """INSERT INTO issues(id, key, project_key, issue_type, is_subtask, is_epic, summary,
                   status, status_id, status_category, resolution, resolved_at, created, updated,
                   due_date, labels, parent_id, epic_key, story_points, original_estimate,
                   remaining_estimate, time_spent, budget, assignee_id, assignee_name,
                   creator_id, creator_name, raw, synced_at)
               VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
               ON CONFLICT(id) DO UPDATE SET
                   key=excluded.key, project_key=excluded.project_key,
                   issue_type=excluded.issue_type, is_subtask=excluded.is_subtask,
                   is_epic=excluded.is_epic, summary=excluded.summary, status=excluded.status,
                   status_id=excluded.status_id, status_category=excluded.status_category,
                   resolution=excluded.resolution, resolved_at=excluded.resolved_at,
                   created=excluded.created, updated=excluded.updated,
                   due_date=excluded.due_date, labels=excluded.labels,
                   parent_id=excluded.parent_id, epic_key=excluded.epic_key,
                   story_points=excluded.story_points,
                   original_estimate=excluded.original_estimate,
                   remaining_estimate=excluded.remaining_estimate,
                   time_spent=excluded.time_spent, budget=excluded.budget,
                   assignee_id=excluded.assignee_id, assignee_name=excluded.assignee_name,
                   creator_id=excluded.creator_id, creator_name=excluded.creator_name,
                   raw=excluded.raw, synced_at=excluded.synced_at""",
            [
                (
                    i.id, i.key, i.project_key, i.issue_type, int(i.is_subtask), int(i.is_epic),
                    i.summary, i.status, i.status_id, i.status_category, i.resolution,
                    _iso(i.resolved_at), _iso(i.created), _iso(i.updated), _iso(i.due_date),
                    jsontext.dumps(list(i.labels)), i.parent_id, i.epic_key,
                    i.story_points, i.original_estimate_seconds, i.remaining_estimate_seconds,
                    i.time_spent_seconds, i.budget,
                    i.assignee.id if i.assignee else None,
                    i.assignee.display_name if i.assignee else None,
                    i.creator.id if i.creator else None,
                    i.creator.display_name if i.creator else None,
                    _slim_raw(raw_by_id[i.id]) if i.id in raw_by_id else "{}",
                    synced,
                )
                for i in issues
            ],
        )
        conn.executemany(UPSERT_CHANGE, [_change_row(c) for i in issues for c in i.changes])
        conn.executemany(
            "INSERT INTO worklogs VALUES (?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET"
            " issue_id=excluded.issue_id, author_id=excluded.author_id,"
            " author_name=excluded.author_name, started=excluded.started,"
            " seconds=excluded.seconds, updated=excluded.updated",
            [
                (
                    w.id, i.id,
                    w.author.id if w.author else None,
                    w.author.display_name if w.author else None,
                    _iso(w.started), w.seconds, _iso(w.updated),
                )
                for i in issues
                for w in i.worklogs
            ],
        )
        conn.executemany(
            "INSERT INTO issue_versions VALUES (?, ?) ON CONFLICT DO NOTHING",
            [(i.id, v) for i in issues for v in i.fix_version_ids],
        )
        conn.executemany(
            "INSERT INTO issue_sprints VALUES (?, ?) ON CONFLICT DO NOTHING",
            [(i.id, s) for i in issues for s in i.sprint_ids],
        )
        # A moved epic keeps its id but not its key; DC children name it by key in
        # Epic Link and Jira does not bump their `updated`, so follow the move here.
        conn.executemany("UPDATE issues SET epic_key = ? WHERE epic_key = ?", renamed)


def _renamed_keys(conn: sqlite3.Connection, issues: list[Issue]) -> list[tuple[str, str]]:
    """(new key, old key) for the stored issues among ``issues`` whose key changed."""
    new_keys = {issue.id: issue.key for issue in issues}
    renamed = []
    for chunk in _chunks(list(new_keys)):
        marks = ",".join("?" * len(chunk))
        for issue_id, old_key in conn.execute(
            f"SELECT id, key FROM issues WHERE id IN ({marks})", chunk
        ):
            if new_keys[issue_id] != old_key:
                renamed.append((new_keys[issue_id], old_key))
    return renamed


def replace_changes(conn: sqlite3.Connection, changes: dict[int, list[Change]]) -> int:
    """Replace the stored changelog of these issues; returns how many items were removed."""
    ids = list(changes)
    removed = 0
    with transaction(conn):
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            removed += conn.execute(
                f"DELETE FROM changes WHERE issue_id IN ({marks})", chunk
            ).rowcount
        conn.executemany(UPSERT_CHANGE,
                         [_change_row(c) for items in changes.values() for c in items])
    return removed


def _change_row(c: Change) -> tuple:
    return (
        c.issue_id, c.history_id, c.item_index, _iso(c.at),
        c.author.id if c.author else None,
        c.author.display_name if c.author else None,
        c.field, c.field_id, c.from_value, c.from_string, c.to_value, c.to_string,
    )


def save_versions(conn: sqlite3.Connection, versions: Iterable[Version]) -> None:
    """Upsert versions; ``first_seen`` is set once, when jira-pm first sees a version."""
    now = _now_iso()
    with transaction(conn):
        conn.executemany(
            """INSERT INTO versions(id, project_key, name, start_date, release_date, released,
                   archived, first_seen, raw) VALUES (?,?,?,?,?,?,?,?,?)
               ON CONFLICT(id) DO UPDATE SET project_key=excluded.project_key,
                   name=excluded.name, start_date=excluded.start_date,
                   release_date=excluded.release_date, released=excluded.released,
                   archived=excluded.archived, raw=excluded.raw""",
            [
                (
                    v.id, v.project_key, v.name, _iso(v.start_date), _iso(v.release_date),
                    int(v.released), int(v.archived), _iso(v.first_seen) or now,
                    jsontext.dumps(_version_raw(v)),
                )
                for v in versions
            ],
        )


def _version_raw(version: Version) -> dict[str, Any]:
    return {
        "id": str(version.id),
        "name": version.name,
        "startDate": _iso(version.start_date),
        "releaseDate": _iso(version.release_date),
        "released": version.released,
        "archived": version.archived,
    }


def save_sprints(conn: sqlite3.Connection, sprints: Iterable[Sprint]) -> None:
    """Upsert sprints (dates and state change as a sprint runs); ``first_seen`` is kept."""
    now = _now_iso()
    unique = {s.id: s for s in sprints}
    with transaction(conn):
        conn.executemany(
            """INSERT INTO sprints(id, name, state, start, "end", complete, board_id, first_seen)
               VALUES (?,?,?,?,?,?,?,?)
               ON CONFLICT(id) DO UPDATE SET name=excluded.name, state=excluded.state,
                   start=excluded.start, "end"=excluded."end", complete=excluded.complete,
                   board_id=COALESCE(excluded.board_id, sprints.board_id)""",
            [
                (s.id, s.name, s.state, _iso(s.start), _iso(s.end), _iso(s.complete),
                 s.board_id, now)
                for s in unique.values()
            ],
        )


def save_statuses(conn: sqlite3.Connection, statuses: Iterable[tuple[str, str, str]]) -> None:
    """Upsert statuses as (id, name, category key) — see ``mapping.map_status``."""
    with transaction(conn):
        conn.executemany(
            "INSERT INTO statuses(id, name, category) VALUES (?,?,?) "
            "ON CONFLICT(id) DO UPDATE SET name=excluded.name, category=excluded.category",
            list(statuses),
        )


def delete_issues(conn: sqlite3.Connection, ids: Iterable[int]) -> int:
    """Remove issues and everything hanging off them; returns how many were removed."""
    ids = list(ids)
    removed = 0
    with transaction(conn):
        _delete_children(conn, ids)
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            removed += conn.execute(f"DELETE FROM issues WHERE id IN ({marks})", chunk).rowcount
    return removed


def issue_ids(conn: sqlite3.Connection, project_keys: Iterable[str] | None = None) -> set[int]:
    """The ids of stored issues (of some projects, or all)."""
    if project_keys is None:
        return {row[0] for row in conn.execute("SELECT id FROM issues")}
    keys = list(project_keys)
    marks = ",".join("?" * len(keys))
    return {
        row[0]
        for row in conn.execute(f"SELECT id FROM issues WHERE project_key IN ({marks})", keys)
    }


def count_issues_by_project(conn: sqlite3.Connection) -> dict[str, int]:
    return {
        row[0]: row[1]
        for row in conn.execute(
            "SELECT project_key, COUNT(*) FROM issues GROUP BY project_key ORDER BY project_key"
        )
    }
