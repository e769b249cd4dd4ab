"""The SQLite store: opening it, and its schema migrations.

The schema version lives in ``PRAGMA user_version``; ``MIGRATIONS[n]`` takes a
store from version n to n+1 inside one transaction, so a store is never left
half-migrated. A store newer than this jira-pm is refused rather than guessed at.

Conventions: datetimes are ISO-8601 UTC text (``2026-11-21T10:00:00+00:00``),
dates are ``YYYY-MM-DD``, JSON columns hold compact JSON, booleans are 0/1.
Issues are keyed by Jira's numeric id, never by key (keys change on a move).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from jira_pm.errors import StoreError

SCHEMA_V1 = """
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL              -- JSON
);

CREATE TABLE issues (
    id                  INTEGER PRIMARY KEY,
    key                 TEXT NOT NULL,
    project_key         TEXT NOT NULL,
    issue_type          TEXT NOT NULL,
    is_subtask          INTEGER NOT NULL DEFAULT 0,
    is_epic             INTEGER NOT NULL DEFAULT 0,
    summary             TEXT NOT NULL DEFAULT '',
    status              TEXT NOT NULL,
    status_id           TEXT,
    status_category     TEXT NOT NULL,
    resolution          TEXT,
    resolved_at         TEXT,
    created             TEXT NOT NULL,
    updated             TEXT NOT NULL,
    due_date            TEXT,
    labels              TEXT NOT NULL DEFAULT '[]',   -- JSON list
    parent_id           INTEGER,
    epic_key            TEXT,
    story_points        REAL,
    original_estimate   INTEGER,                      -- seconds
    remaining_estimate  INTEGER,                      -- seconds
    time_spent          INTEGER,                      -- seconds
    budget              REAL,
    assignee_id         TEXT,
    assignee_name       TEXT,
    raw                 TEXT NOT NULL,                -- the issue JSON as Jira sent it
    synced_at           TEXT NOT NULL
);
CREATE INDEX issues_key ON issues(key);
CREATE INDEX issues_project ON issues(project_key);
CREATE INDEX issues_parent ON issues(parent_id);

CREATE TABLE issue_versions (
    issue_id   INTEGER NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    version_id INTEGER NOT NULL,
    PRIMARY KEY (issue_id, version_id)
);
CREATE INDEX issue_versions_version ON issue_versions(version_id);

CREATE TABLE issue_sprints (
    issue_id  INTEGER NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    sprint_id INTEGER NOT NULL,
    PRIMARY KEY (issue_id, sprint_id)
);
CREATE INDEX issue_sprints_sprint ON issue_sprints(sprint_id);

CREATE TABLE changes (
    issue_id     INTEGER NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    history_id   INTEGER NOT NULL,
    item_index   INTEGER NOT NULL,
    at           TEXT NOT NULL,
    author_id    TEXT,
    author_name  TEXT,
    field        TEXT NOT NULL,
    field_id     TEXT,
    from_value   TEXT,
    from_string  TEXT,
    to_value     TEXT,
    to_string    TEXT,
    PRIMARY KEY (issue_id, history_id, item_index)
) WITHOUT ROWID;

CREATE TABLE worklogs (
    id           INTEGER PRIMARY KEY,
    issue_id     INTEGER NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    author_id    TEXT,
    author_name  TEXT,
    started      TEXT NOT NULL,
    seconds      INTEGER NOT NULL,
    updated      TEXT
);
CREATE INDEX worklogs_issue ON worklogs(issue_id);

CREATE TABLE versions (
    id            INTEGER PRIMARY KEY,
    project_key   TEXT NOT NULL,
    name          TEXT NOT NULL,
    start_date    TEXT,
    release_date  TEXT,
    released      INTEGER NOT NULL DEFAULT 0,
    archived      INTEGER NOT NULL DEFAULT 0,
    first_seen    TEXT NOT NULL,
    raw           TEXT NOT NULL
);

CREATE TABLE sprints (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    state       TEXT NOT NULL,
    start       TEXT,
    end         TEXT,
    complete    TEXT,
    board_id    INTEGER,
    first_seen  TEXT NOT NULL
);

CREATE TABLE statuses (
    id        TEXT PRIMARY KEY,
    name      TEXT NOT NULL,
    category  TEXT NOT NULL
);

-- One row per sync scope (a hash of projects + JQL): where incremental sync resumes.
CREATE TABLE sync_state (
    scope           TEXT PRIMARY KEY,
    cursor          TEXT,            -- UTC instant: the next sync asks updated >= cursor - overlap
    last_full       TEXT,
    last_reconcile  TEXT,
    checkpoint      TEXT             -- JSON: where an interrupted full sync resumes
);

-- Findings of every run, diffed by fingerprint: first_seen / last_seen / resolved_at.
CREATE TABLE findings (
    fingerprint     TEXT PRIMARY KEY,
    rule_id         TEXT NOT NULL,
    check_name      TEXT NOT NULL,
    subject_type    TEXT NOT NULL,
    subject_id      TEXT NOT NULL,
    subject_name    TEXT NOT NULL,
    project_key     TEXT,
    severity        TEXT NOT NULL,
    message         TEXT NOT NULL,
    evidence        TEXT NOT NULL,   -- JSON
    issue_ids       TEXT NOT NULL,   -- JSON list of issue ids to label
    label           TEXT,
    comment_policy  TEXT NOT NULL,
    first_seen      TEXT NOT NULL,
    last_seen       TEXT NOT NULL,
    resolved_at     TEXT
);
CREATE INDEX findings_open ON findings(resolved_at);

-- Every write jira-pm attempted against Jira, what it was for, and how it ended.
CREATE TABLE ledger (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id       TEXT NOT NULL,
    at           TEXT NOT NULL,
    issue_id     INTEGER NOT NULL,
    issue_key    TEXT,
    operation    TEXT NOT NULL,      -- add-label, remove-label, comment, edit-comment
    label        TEXT,
    rule_id      TEXT,
    fingerprint  TEXT,
    comment_id   TEXT,
    content_hash TEXT,               -- hash of the comment text written (on-change edits)
    status       TEXT NOT NULL,      -- pending, done, failed
    http_status  INTEGER,
    detail       TEXT
);
CREATE INDEX ledger_fingerprint ON ledger(fingerprint, issue_id);

CREATE TABLE runs (
    id        TEXT PRIMARY KEY,
    kind      TEXT NOT NULL,         -- sync, audit, apply, run
    started   TEXT NOT NULL,
    finished  TEXT,
    outcome   TEXT,
    summary   TEXT                   -- JSON
);
"""

# ``meta`` key whose presence makes the next sync a full one (its value says why);
# a successful full sync removes it.
FULL_SYNC_DUE = "full_sync_due"

# The creator (``creator``, else ``reporter``): who added an issue created
# straight into a sprint, version or epic. Issues stored before it lack the
# creator, so a store that holds any gets the full-sync flag: every issue is
# fetched again once. An interrupted sync's checkpoint is dropped, because the
# pages it already saved lack the creator too.
SCHEMA_V2 = f"""
ALTER TABLE issues ADD COLUMN creator_id TEXT;
ALTER TABLE issues ADD COLUMN creator_name TEXT;
INSERT OR REPLACE INTO meta(key, value)
    SELECT '{FULL_SYNC_DUE}', '"schema 2 stores the creator of each issue"'
    WHERE EXISTS (SELECT 1 FROM issues);
UPDATE sync_state SET checkpoint = NULL;
"""

# MIGRATIONS[n] upgrades a store at user_version n to n + 1.
MIGRATIONS: list[str] = [SCHEMA_V1, SCHEMA_V2]
SCHEMA_VERSION = len(MIGRATIONS)


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction (BEGIN IMMEDIATE … COMMIT); rolled back on any error.

    The store is opened in autocommit mode (``isolation_level=None``), where
    ``with conn:`` neither begins a transaction nor leaves an outer one alone:
    every multi-statement write goes through here.

    Nested use joins the outer transaction, so a page's saves and its checkpoint
    commit together.
    """
    if conn.in_transaction:
        yield conn
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def connect(path: str | Path) -> sqlite3.Connection:
    """Open (creating if needed) and migrate the store at ``path``.

    WAL mode lets `audit` read while `sync` writes, and makes a killed writer
    lose only its open transaction.
    """
    path = Path(path)
    try:
        if path.parent and not path.parent.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), timeout=30, isolation_level=None)
    except (sqlite3.Error, OSError) as exc:
        raise StoreError(
            f"cannot open the store {path}: {exc}",
            hint="check the path in [store] path of jira-pm.toml and that its folder is writable",
        ) from exc
    conn.row_factory = sqlite3.Row
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        migrate(conn, path)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise StoreError(
            f"the store {path} is not a usable jira-pm store: {exc}",
            hint=(
                "point [store] path at another file, "
                "or move this one aside and run `jira-pm sync --full`"
            ),
        ) from exc
    return conn


def migrate(conn: sqlite3.Connection, path: str | Path = "<store>") -> None:
    """Apply every migration the store lacks, each in its own transaction."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"the store {path} has schema version {version}, newer than this jira-pm "
            f"understands ({SCHEMA_VERSION})",
            hint="upgrade jira-pm, or use another store file",
        )
    for target in range(version, SCHEMA_VERSION):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(MIGRATIONS[target]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {target + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise


def _statements(script: str) -> list[str]:
    """Split a migration script into statements.

    ``executescript`` would commit the open transaction first, so a crash
    mid-migration could leave half a schema; executing statement by statement
    keeps the whole migration in one transaction.
    """
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines():
        code = line.split("--", 1)[0]
        buffer += code + "\n"
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements
