"""Sync bookkeeping in the store: per-scope cursor/checkpoint rows and ``meta`` values."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jira_pm.mapping import parse_jira_datetime
from jira_pm.store.schema import transaction


@dataclass(frozen=True)
class SyncState:
    """Where sync stands for one scope (all instants aware UTC)."""

    scope: str
    cursor: datetime | None = None
    last_full: datetime | None = None
    last_reconcile: datetime | None = None
    checkpoint: dict[str, Any] | None = None


def get_sync_state(conn: sqlite3.Connection, scope: str) -> SyncState:
    """The state of ``scope``; an empty state when it never synced."""
    row = conn.execute(
        "SELECT cursor, last_full, last_reconcile, checkpoint FROM sync_state WHERE scope = ?",
        (scope,),
    ).fetchone()
    if row is None:
        return SyncState(scope=scope)
    return SyncState(
        scope=scope,
        cursor=parse_jira_datetime(row[0]),
        last_full=parse_jira_datetime(row[1]),
        last_reconcile=parse_jira_datetime(row[2]),
        checkpoint=json.loads(row[3]) if row[3] else None,
    )


_UNSET: Any = object()


def set_sync_state(
    conn: sqlite3.Connection,
    scope: str,
    *,
    cursor: datetime | None = _UNSET,
    last_full: datetime | None = _UNSET,
    last_reconcile: datetime | None = _UNSET,
    checkpoint: dict[str, Any] | None = _UNSET,
) -> None:
    """Update the given columns of ``scope``'s row (others keep their values)."""
    with transaction(conn):
        conn.execute("INSERT INTO sync_state(scope) VALUES (?) ON CONFLICT DO NOTHING", (scope,))
        updates: dict[str, Any] = {}
        for name, value in (
            ("cursor", cursor),
            ("last_full", last_full),
            ("last_reconcile", last_reconcile),
        ):
            if value is not _UNSET:
                updates[name] = value.isoformat() if value is not None else None
        if checkpoint is not _UNSET:
            updates["checkpoint"] = (
                json.dumps(checkpoint, separators=(",", ":")) if checkpoint is not None else None
            )
        if updates:
            assignments = ", ".join(f"{name} = ?" for name in updates)
            conn.execute(
                f"UPDATE sync_state SET {assignments} WHERE scope = ?",
                (*updates.values(), scope),
            )


def never_synced(conn: sqlite3.Connection) -> bool:
    """Whether no sync has ever written to this store (no sync state, no issues)."""
    return (conn.execute("SELECT COUNT(*) FROM sync_state").fetchone()[0] == 0
            and conn.execute("SELECT COUNT(*) FROM issues").fetchone()[0] == 0)


def unsynced_reason(conn: sqlite3.Connection, scope: str) -> str | None:
    """Why the store cannot stand for the site of ``scope`` yet, or None when it can.

    ``"never"``: no sync ever wrote to it. ``"interrupted"``: the scope's first
    full sync started and has not completed, so the store holds only part of
    the site (an epic with half its worklogs looks under budget). A scope with
    a completed full sync is ready, whatever later runs left behind (an
    interrupted incremental, the migration's full-sync flag): its data is
    complete up to that sync.
    """
    row = conn.execute("SELECT last_full FROM sync_state WHERE scope = ?", (scope,)).fetchone()
    if row is not None:
        return None if row[0] else "interrupted"
    return "never" if never_synced(conn) else None


def stored_changelog_ids(conn: sqlite3.Connection, ids: list[int]) -> set[int]:
    """The ids among ``ids`` whose stored issue has at least one changelog item."""
    found: set[int] = set()
    for begin in range(0, len(ids), 500):  # stay below SQLite's bound-parameter limit
        batch = ids[begin:begin + 500]
        marks = ",".join("?" * len(batch))
        found.update(row[0] for row in conn.execute(
            f"SELECT DISTINCT issue_id FROM changes WHERE issue_id IN ({marks})", batch))
    return found


# ``meta`` key: the last sync that finished, ``{"mode", "finished" (UTC), "issues"}``.
LAST_SYNC = "last_sync"

def get_meta(conn: sqlite3.Connection, key: str, default: Any = None) -> Any:
    """A JSON value from ``meta``."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return json.loads(row[0]) if row else default


def set_meta(conn: sqlite3.Connection, key: str, value: Any) -> None:
    """Store a JSON value in ``meta``."""
    with transaction(conn):
        conn.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, json.dumps(value, separators=(",", ":"), sort_keys=True)),
        )


def delete_meta(conn: sqlite3.Connection, key: str) -> None:
    """Remove a value from ``meta`` (nothing happens when it is absent)."""
    with transaction(conn):
        conn.execute("DELETE FROM meta WHERE key = ?", (key,))
