"""The ledger: every write jira-pm attempted against Jira, its result, and what it was for.

A write is recorded ``pending`` *before* its request and marked ``done`` or
``failed`` after it, each in its own committed transaction. A ``pending`` row
left behind therefore means "the outcome is unknown" (a crash, a kill, an
ambiguous POST): for a comment, the next run searches the issue for the marker
before it posts anything.

A run killed mid-write leaves its ``runs`` row without an end and its
``pending`` rows behind; the next run, once it holds the run lock (so the
killed run is certainly dead), closes both as ``interrupted``. An interrupted
comment row still means "outcome unknown" to ``comment_records``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from jira_pm.store.schema import transaction

PENDING = "pending"
DONE = "done"
FAILED = "failed"
INTERRUPTED = "interrupted"  # its run died before Jira's answer was recorded

OP_LABELS = "labels"  # one PUT carrying label adds and removes
OP_COMMENT = "comment"
OP_EDIT_COMMENT = "edit-comment"
OP_COMMENT_PROPERTY = "comment-property"
OP_DELETE_COMMENT = "delete-comment"  # `jira-pm clean --comments`


@dataclass(frozen=True)
class LedgerEntry:
    id: int
    run_id: str
    at: str
    issue_id: int
    issue_key: str | None
    operation: str
    label: str | None
    rule_id: str | None
    fingerprint: str | None
    comment_id: str | None
    content_hash: str | None
    status: str
    http_status: int | None
    detail: str | None


@dataclass(frozen=True)
class CommentRecord:
    """What the ledger knows about jira-pm's comment for one finding on one issue."""

    comment_id: str | None
    content_hash: str | None
    status: str  # DONE: the comment exists; PENDING: its POST may or may not have landed


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def record_pending(
    conn: sqlite3.Connection,
    *,
    run_id: str,
    issue_id: int,
    issue_key: str | None,
    operation: str,
    label: str | None = None,
    rule_id: str | None = None,
    fingerprint: str | None = None,
    comment_id: str | None = None,
    content_hash: str | None = None,
    detail: str | None = None,
) -> int:
    """Write a ``pending`` row before a request is sent; returns its id."""
    with transaction(conn):
        cursor = conn.execute(
            "INSERT INTO ledger (run_id, at, issue_id, issue_key, operation, label, rule_id,"
            " fingerprint, comment_id, content_hash, status, detail)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                run_id,
                _now(),
                issue_id,
                issue_key,
                operation,
                label,
                rule_id,
                fingerprint,
                comment_id,
                content_hash,
                PENDING,
                detail,
            ),
        )
    return int(cursor.lastrowid)


def record_result(
    conn: sqlite3.Connection,
    entry_id: int,
    status: str,
    *,
    http_status: int | None = None,
    comment_id: str | None = None,
    detail: str | None = None,
) -> None:
    """Mark a pending row ``done`` or ``failed``, with what Jira answered."""
    with transaction(conn):
        conn.execute(
            "UPDATE ledger SET status = ?, http_status = COALESCE(?, http_status),"
            " comment_id = COALESCE(?, comment_id), detail = COALESCE(?, detail), at = ?"
            " WHERE id = ?",
            (status, http_status, comment_id, detail, _now(), entry_id),
        )


def record_done(conn: sqlite3.Connection, **fields) -> int:
    """Record a fact that needed no request of its own (a comment found by its marker)."""
    entry_id = record_pending(conn, **fields)
    record_result(conn, entry_id, DONE)
    return entry_id


def comment_records(conn: sqlite3.Connection) -> dict[tuple[str, int], CommentRecord]:
    """The latest known state of every jira-pm comment, keyed by (fingerprint, issue id).

    A comment is ``done`` once any row proved it exists; later edits carry the
    text they wrote (``content_hash``). A comment only ever pending or failed
    is reported ``pending``: its outcome must be checked before posting again.
    """
    rows = conn.execute(
        "SELECT fingerprint, issue_id, operation, comment_id, content_hash, status, http_status"
        " FROM ledger"
        " WHERE operation IN (?, ?) AND fingerprint IS NOT NULL ORDER BY id",
        (OP_COMMENT, OP_EDIT_COMMENT),
    ).fetchall()
    records: dict[tuple[str, int], CommentRecord] = {}
    for row in rows:
        key = (row["fingerprint"], int(row["issue_id"]))
        known = records.get(key)
        # An edit refused with 404 means a person deleted the comment: jira-pm
        # neither re-posts nor re-edits it until its text changes again.
        deleted = row["operation"] == OP_EDIT_COMMENT and row["http_status"] == 404
        if row["status"] == DONE or deleted:
            comment_id = row["comment_id"] or (known.comment_id if known else None)
            records[key] = CommentRecord(comment_id, row["content_hash"], DONE)
        elif known is None or known.status != DONE:
            if row["operation"] == OP_COMMENT:
                records[key] = CommentRecord(None, row["content_hash"], PENDING)
    return records


def written_labels(conn: sqlite3.Connection) -> frozenset[str]:
    """Every label jira-pm added, or may have added, to some issue (part of what it owns).

    A labels write Jira refused (a 4xx) added nothing; one whose outcome is
    unknown (pending, or failed without Jira's refusal) may have landed, so it counts.
    """
    rows = conn.execute(
        "SELECT label FROM ledger WHERE operation = ? AND label IS NOT NULL"
        " AND NOT (status = ? AND http_status BETWEEN 400 AND 499)",
        (OP_LABELS, FAILED),
    ).fetchall()
    return frozenset(word[1:] for row in rows for word in row["label"].split()
                     if word.startswith("+"))


def has_written(conn: sqlite3.Connection) -> bool:
    """Whether any label or comment write to Jira landed, or may have (a pending row, or one
    its killed run left interrupted)."""
    row = conn.execute(
        "SELECT 1 FROM ledger WHERE operation IN (?, ?, ?) AND status IN (?, ?, ?) LIMIT 1",
        (OP_LABELS, OP_COMMENT, OP_EDIT_COMMENT, DONE, PENDING, INTERRUPTED),
    ).fetchone()
    return row is not None


def deleted_comment_ids(conn: sqlite3.Connection) -> frozenset[str]:
    """Ids of the comments `jira-pm clean` deleted, found already gone, or may have deleted.

    A delete whose outcome is unknown (pending, or interrupted by a kill) counts:
    forgetting a comment that still exists is safe, since a comment is only posted
    after a marker search.
    """
    rows = conn.execute(
        "SELECT comment_id FROM ledger WHERE operation = ? AND status IN (?, ?, ?)"
        " AND comment_id IS NOT NULL",
        (OP_DELETE_COMMENT, DONE, PENDING, INTERRUPTED),
    ).fetchall()
    return frozenset(str(row["comment_id"]) for row in rows)


def entries(conn: sqlite3.Connection, run_id: str | None = None) -> list[LedgerEntry]:
    """Ledger rows in the order written, for one run or all."""
    sql = "SELECT * FROM ledger"
    params: tuple = ()
    if run_id is not None:
        sql += " WHERE run_id = ?"
        params = (run_id,)
    rows = conn.execute(sql + " ORDER BY id", params).fetchall()
    return [_entry(row) for row in rows]


def _entry(row: sqlite3.Row) -> LedgerEntry:
    return LedgerEntry(
        id=row["id"],
        run_id=row["run_id"],
        at=row["at"],
        issue_id=row["issue_id"],
        issue_key=row["issue_key"],
        operation=row["operation"],
        label=row["label"],
        rule_id=row["rule_id"],
        fingerprint=row["fingerprint"],
        comment_id=row["comment_id"],
        content_hash=row["content_hash"],
        status=row["status"],
        http_status=row["http_status"],
        detail=row["detail"],
    )


def start_run(conn: sqlite3.Connection, run_id: str, kind: str) -> None:
    """Record that a run (sync, audit, apply, run) has started."""
    with transaction(conn):
        conn.execute("INSERT INTO runs (id, kind, started) VALUES (?, ?, ?)",
                     (run_id, kind, _now()))


def finish_run(conn: sqlite3.Connection, run_id: str, outcome: str, summary: dict) -> None:
    """Record how a run ended and its summary (JSON)."""
    with transaction(conn):
        conn.execute(
            "UPDATE runs SET finished = ?, outcome = ?, summary = ? WHERE id = ?",
            (_now(), outcome, json.dumps(summary, sort_keys=True, default=str), run_id),
        )


def close_interrupted(conn: sqlite3.Connection, current_run_id: str) -> tuple[int, int]:
    """Close the runs and pending writes of runs that died; returns (runs, rows) closed.

    Only call this while holding the run lock: a run without an end is then
    certainly not running any more.
    """
    with transaction(conn):
        rows = conn.execute(
            "UPDATE ledger SET status = ?, at = ?, detail = COALESCE(detail || '; ', '') || ?"
            " WHERE status = ? AND run_id != ?",
            (INTERRUPTED, _now(), "its run was killed before Jira's answer was recorded",
             PENDING, current_run_id),
        ).rowcount
        runs = conn.execute(
            "UPDATE runs SET finished = ?, outcome = ? WHERE finished IS NULL AND id != ?",
            (_now(), INTERRUPTED, current_run_id),
        ).rowcount
    return runs, rows


def labels_text(add: Iterable[str], remove: Iterable[str]) -> str:
    """The ``label`` column of a labels write: ``+pm-overdue -pm-at-risk``."""
    return " ".join([*(f"+{x}" for x in add), *(f"-{x}" for x in remove)])
