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

``label_loops`` counts label changes that did not stick (see
``jira_pm.writeback.loops``); ``runs`` and ``entries`` are what `jira-pm log`
and `jira-pm status` read.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from jira_pm.store.schema import is_postgres, transaction

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
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
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
        return int(cursor.fetchone()[0])


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


def entries(conn: sqlite3.Connection, run_id: str | None = None, *,
            issue_key: str | None = None) -> list[LedgerEntry]:
    """Ledger rows in the order written, for one run or all, for one issue or all.

    An issue is found by the key it was written under or by the key it has now
    (keys change when an issue moves).
    """
    where, params = [], []
    if run_id is not None:
        where.append("run_id = ?")
        params.append(run_id)
    if issue_key is not None:
        where.append("(issue_key = ? OR issue_id IN (SELECT id FROM issues WHERE key = ?))")
        params += [issue_key, issue_key]
    sql = "SELECT * FROM ledger" + (" WHERE " + " AND ".join(where) if where else "")
    rows = conn.execute(sql + " ORDER BY id", params).fetchall()
    return [_entry(row) for row in rows]


@dataclass(frozen=True)
class RunRecord:
    """One ``runs`` row: a sync, apply, run or clean, and how it ended (None: still running)."""

    id: str
    kind: str
    started: str
    finished: str | None
    outcome: str | None
    summary: dict


def runs(conn: sqlite3.Connection, run_id: str | None = None,
         kinds: Iterable[str] | None = None) -> list[RunRecord]:
    """Recorded runs, oldest first: one by id, those of some kinds, or all."""
    where, params = [], []
    if run_id is not None:
        where.append("id = ?")
        params.append(run_id)
    if kinds is not None:
        kinds = list(kinds)
        where.append(f"kind IN ({','.join('?' * len(kinds))})")
        params += kinds
    sql = "SELECT * FROM runs" + (" WHERE " + " AND ".join(where) if where else "")
    # Runs started in one instant: SQLite's insertion order; PostgreSQL has no rowid.
    tie = "id" if is_postgres(conn) else "rowid"
    rows = conn.execute(sql + f" ORDER BY started, {tie}", params).fetchall()
    return [RunRecord(row["id"], row["kind"], row["started"], row["finished"], row["outcome"],
                      json.loads(row["summary"]) if row["summary"] else {}) for row in rows]


def last_run(conn: sqlite3.Connection, kinds: Iterable[str] = ("run", "apply")) -> RunRecord | None:
    """The latest run of these kinds (by default those that write labels and comments)."""
    found = runs(conn, kinds=kinds)
    return found[-1] if found else None


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
    """Record that a run (sync, audit, apply, run) has started.

    On PostgreSQL the run also takes an advisory lock named after it, held by
    ``conn`` until it closes (or its process dies): runners of other scopes
    see the run alive through it (see ``close_interrupted``).
    """
    if is_postgres(conn):
        conn.try_lock(_alive_lock(run_id))
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
    certainly not running any more. On PostgreSQL, where runners on several
    hosts share the store, a run also counts as dead only when its own advisory
    lock (taken by ``start_run``) is free: a second guard, should a runner of an
    older version hold the run lock under another name.
    """
    alive = _alive_runs(conn, current_run_id) if is_postgres(conn) else []
    others = "".join(" AND run_id != ?" for _ in alive)
    with transaction(conn):
        rows = conn.execute(
            "UPDATE ledger SET status = ?, at = ?, detail = COALESCE(detail || '; ', '') || ?"
            " WHERE status = ? AND run_id != ?" + others,
            (INTERRUPTED, _now(), "its run was killed before Jira's answer was recorded",
             PENDING, current_run_id, *alive),
        ).rowcount
        runs = conn.execute(
            "UPDATE runs SET finished = ?, outcome = ? WHERE finished IS NULL AND id != ?"
            + others.replace("run_id", "id"),
            (_now(), INTERRUPTED, current_run_id, *alive),
        ).rowcount
    return runs, rows


def _alive_lock(run_id: str) -> str:
    return f"run-alive:{run_id}"


def _alive_runs(conn, current_run_id: str) -> list[str]:
    """The unfinished runs whose process still holds their advisory lock (PostgreSQL)."""
    alive = []
    for (run_id,) in conn.execute("SELECT id FROM runs WHERE finished IS NULL AND id != ?",
                                  (current_run_id,)).fetchall():
        if conn.try_lock(_alive_lock(run_id)):
            conn.unlock(_alive_lock(run_id))
        else:
            alive.append(run_id)
    return alive


def labels_text(add: Iterable[str], remove: Iterable[str]) -> str:
    """The ``label`` column of a labels write: ``+pm-overdue -pm-at-risk``."""
    return " ".join([*(f"+{x}" for x in add), *(f"-{x}" for x in remove)])


# ---- label changes that do not stick (loop detection) ---------------------------------------

@dataclass(frozen=True)
class LoopRecord:
    """A label change jira-pm sent on consecutive runs, none of which a sync showed in effect."""

    issue_id: int
    change: str  # "+label" or "-label"
    issue_key: str
    rule_id: str | None
    runs: int
    first_sent: str
    last_sent: str
    last_run_id: str
    stuck_at: str | None  # set once jira-pm stopped sending it
    synced_at: str | None  # when a sync last saved the issue (None: not in the store)


def loop_records(conn: sqlite3.Connection, stuck_only: bool = False) -> list[LoopRecord]:
    """Every counted (or, with ``stuck_only``, stuck) label change, by issue key and change."""
    rows = conn.execute(
        "SELECT l.*, i.synced_at AS synced_at FROM label_loops l"
        " LEFT JOIN issues i ON i.id = l.issue_id"
        + (" WHERE l.stuck_at IS NOT NULL" if stuck_only else "")
    ).fetchall()
    found = [LoopRecord(int(r["issue_id"]), r["change"], r["issue_key"], r["rule_id"],
                        int(r["runs"]), r["first_sent"], r["last_sent"], r["last_run_id"],
                        r["stuck_at"], r["synced_at"]) for r in rows]
    return sorted(found, key=lambda r: (key_order(r.issue_key), r.change))


def record_label_sends(conn: sqlite3.Connection, run_id: str,
                       sends: Iterable[tuple[int, str, str, str | None]]) -> None:
    """Count label changes Jira accepted in this run: (issue id, issue key, change, rule id).

    A change counted before in another run goes one up; a new one starts at 1.
    """
    now = datetime.now(UTC).isoformat()  # microseconds: compared with issues.synced_at
    with transaction(conn):
        for issue_id, issue_key, change, rule_id in sends:
            conn.execute(
                "INSERT INTO label_loops (issue_id, change, issue_key, rule_id, runs, first_sent,"
                " last_sent, last_run_id) VALUES (?, ?, ?, ?, 1, ?, ?, ?)"
                " ON CONFLICT(issue_id, change) DO UPDATE SET issue_key = excluded.issue_key,"
                " rule_id = COALESCE(excluded.rule_id, label_loops.rule_id),"
                " last_sent = excluded.last_sent, runs = label_loops.runs"
                " + CASE WHEN label_loops.last_run_id != excluded.last_run_id THEN 1 ELSE 0 END,"
                " last_run_id = excluded.last_run_id",
                (issue_id, change, issue_key, rule_id, now, now, run_id),
            )


def mark_stuck(conn: sqlite3.Connection, changes: Iterable[tuple[int, str]]) -> None:
    """Stop sending these (issue id, change) pairs: they stay listed until cleared."""
    with transaction(conn):
        conn.executemany("UPDATE label_loops SET stuck_at = ? WHERE issue_id = ? AND change = ?",
                         [(_now(), issue_id, change) for issue_id, change in changes])


def forget_loops(conn: sqlite3.Connection, changes: Iterable[tuple[int, str]]) -> None:
    """Stop counting these (issue id, change) pairs: a sync showed them in effect."""
    with transaction(conn):
        conn.executemany("DELETE FROM label_loops WHERE issue_id = ? AND change = ?",
                         list(changes))


def clear_loops(conn: sqlite3.Connection, issue_keys: Iterable[str] | None = None
                ) -> list[LoopRecord]:
    """Forget every counted or stuck change of these issues (all issues: None); returns them."""
    found = loop_records(conn)
    if issue_keys is not None:
        keys = set(issue_keys)
        current = {int(r["id"]): r["key"] for r in conn.execute(
            "SELECT id, key FROM issues WHERE id IN (SELECT issue_id FROM label_loops)")}
        found = [r for r in found if r.issue_key in keys or current.get(r.issue_id) in keys]
    forget_loops(conn, [(r.issue_id, r.change) for r in found])
    return found


def key_order(key: str) -> tuple[str, int, str]:
    """ABC-9 before ABC-10."""
    project, _, number = key.rpartition("-")
    return (project, int(number), key) if number.isdigit() else (key, 0, key)
