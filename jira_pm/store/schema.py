"""The store: opening it (a SQLite file, or a PostgreSQL database), and its schema migrations.

A store target is a path (SQLite, the default) or a ``postgresql://`` URL; one
set of store functions serves both (see ``store.postgres`` for how). The schema
version lives in ``PRAGMA user_version`` (PostgreSQL: the ``schema_version``
table); ``MIGRATIONS[n]`` takes a store from version n to n+1 inside one
transaction, so a store is never left half-migrated. A store newer than this
jira-pm is refused rather than guessed at.

Conventions: datetimes are ISO-8601 UTC text (``2026-11-21T10:00:00+00:00``),
dates are ``YYYY-MM-DD``, JSON columns hold compact JSON, booleans are 0/1.
Issues are keyed by Jira's numeric id, never by key (keys change on a move).
"""

from __future__ import annotations

import errno
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from jira_pm.errors import StoreError, StoreReadOnly
from jira_pm.store.postgres import is_postgres_url

# How long a command waits for another process's write transaction before giving up.
BUSY_TIMEOUT = 30.0

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
    "end"       TEXT,                 -- quoted: a reserved word in PostgreSQL
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
INSERT INTO meta(key, value)
    SELECT '{FULL_SYNC_DUE}', '"schema 2 stores the creator of each issue"'
    WHERE EXISTS (SELECT 1 FROM issues)
    ON CONFLICT(key) DO UPDATE SET value = excluded.value;
UPDATE sync_state SET checkpoint = NULL;
"""

# Label changes a sync showed undone after jira-pm sent them (loop detection, see
# jira_pm.writeback.loops): one row per issue and change while it is being counted,
# kept once it is stuck until a sync shows it in effect or a person clears it.
SCHEMA_V3 = """
CREATE TABLE label_loops (
    issue_id     INTEGER NOT NULL,
    change       TEXT NOT NULL,      -- "+pm-overdue" (an add) or "-pm-at-risk" (a removal)
    issue_key    TEXT NOT NULL,
    rule_id      TEXT,
    runs         INTEGER NOT NULL,   -- consecutive runs that sent it, none seen to take effect
    first_sent   TEXT NOT NULL,
    last_sent    TEXT NOT NULL,      -- UTC instant, compared with issues.synced_at
    last_run_id  TEXT NOT NULL,
    stuck_at     TEXT,               -- when jira-pm stopped sending it; NULL while counting
    PRIMARY KEY (issue_id, change)
);
"""

# Read-only views for dashboards (Metabase, Grafana, Superset): their columns are a
# documented interface (docs/deploy.md), the tables behind them are not. A column
# may be added; none is renamed or removed without a new view name. ``{number}``
# is filled per dialect: a number read out of the JSON evidence.
SCHEMA_V4 = """
CREATE VIEW jira_pm_findings AS
    SELECT fingerprint, rule_id, check_name, severity, subject_type, subject_id, subject_name,
           project_key, message, label, evidence, issue_ids, first_seen, last_seen, resolved_at,
           CASE WHEN resolved_at IS NULL THEN 1 ELSE 0 END AS is_open
    FROM findings;
CREATE VIEW jira_pm_issues AS
    SELECT id, key, project_key, issue_type, summary, status, status_category, resolution,
           resolved_at, created, updated, due_date, labels, parent_id, epic_key, story_points,
           original_estimate AS original_estimate_seconds,
           remaining_estimate AS remaining_estimate_seconds,
           time_spent AS time_spent_seconds, budget, assignee_name, creator_name, synced_at
    FROM issues;
CREATE VIEW jira_pm_budgets AS
    SELECT fingerprint, rule_id, check_name, severity, subject_type, subject_id, subject_name,
           project_key, {number_budget} AS budget, {number_actual} AS actual,
           {number_spent_fraction} AS spent_fraction, {number_forecast} AS forecast,
           {text_unit} AS unit, first_seen, last_seen, resolved_at,
           CASE WHEN resolved_at IS NULL THEN 1 ELSE 0 END AS is_open
    FROM findings WHERE check_name IN ('budget_warning', 'budget_breach', 'budget_risk');
"""

_JSON_READS = {
    "sqlite": ("json_extract(evidence, '$.{key}')", "json_extract(evidence, '$.{key}')"),
    "postgresql": ("((evidence::jsonb) ->> '{key}')::double precision",
                   "((evidence::jsonb) ->> '{key}')"),
}


def _views(dialect: str) -> str:
    number, text = _JSON_READS[dialect]
    return SCHEMA_V4.format(
        **{f"number_{key}": number.format(key=key)
           for key in ("budget", "actual", "spent_fraction", "forecast")},
        text_unit=text.format(key="unit"),
    )


# MIGRATIONS[n] upgrades a store at version n to n + 1 (SQLite's text; ``migration``
# gives each dialect's).
MIGRATIONS: list[str] = [SCHEMA_V1, SCHEMA_V2, SCHEMA_V3, _views("sqlite")]
SCHEMA_VERSION = len(MIGRATIONS)
VIEWS_MIGRATION = 3


def migration(index: int, dialect: str = "sqlite") -> list[str]:
    """The statements of MIGRATIONS[index] for ``dialect`` ("sqlite" or "postgresql")."""
    if dialect == "sqlite":
        return _statements(MIGRATIONS[index])
    from jira_pm.store import postgres

    script = _views(dialect) if index == VIEWS_MIGRATION else MIGRATIONS[index]
    return [postgres.ddl(statement) for statement in _statements(script)]


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction (BEGIN IMMEDIATE … COMMIT); rolled back on any error.

    The store is opened in autocommit mode (``isolation_level=None``), where
    ``with conn:`` neither begins a transaction nor leaves an outer one alone:
    every multi-statement write goes through here. IMMEDIATE takes the write
    lock first, waiting up to the busy timeout for another writer; a deferred
    transaction that reads and then writes would instead fail at once with
    "database is locked" when a writer got in between.

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


def connect(path: str | Path, *, readonly: bool = False) -> sqlite3.Connection:
    """Open (creating if needed) and migrate the store at ``path``.

    WAL mode lets `audit` read while `sync` writes, and makes a killed writer
    lose only its open transaction. With ``readonly`` the store is opened with
    sqlite's ``mode=ro`` and never created: commands that only read work on a
    store whose file or folder this user may not write. Every failure is a
    StoreError that names its cause (see ``store_error``).
    """
    if is_postgres_url(path):
        return _connect_postgres(str(path), readonly=readonly)
    path = Path(path)
    if readonly:
        return _connect_readonly(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise store_error(exc, path) from exc
    conn = None
    try:
        conn = _open(path)
        _use_wal(conn)
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        migrate(conn, path)
    except sqlite3.Error as exc:
        if conn is not None:
            conn.close()
        raise store_error(exc, path) from exc
    return conn


def _connect_postgres(url: str, *, readonly: bool) -> Any:
    """The PostgreSQL store at ``url``, migrated (a read-only connection migrates first too)."""
    from jira_pm.store import postgres

    conn = postgres.open_connection(url)
    try:
        if readonly and postgres.schema_version(conn) == 0:
            raise StoreError(f"there is no jira-pm store in {postgres.shown_url(url)}",
                             hint="run `jira-pm sync` first, or check [store] url "
                                  "(or $JIRA_PM_STORE_URL)")
        migrate(conn, postgres.shown_url(url))
        if readonly:
            conn.execute("SET default_transaction_read_only = on")
    except BaseException:
        conn.close()
        raise
    return conn


def store_exists(target: str | Path) -> bool:
    """Whether a store is there: the SQLite file exists, or the database holds jira-pm's schema.

    Commands that only read say "no store" instead of creating one at a wrong
    path; for PostgreSQL an unreachable database is a StoreError, not "no store".
    """
    if not is_postgres_url(target):
        return Path(target).exists()
    from jira_pm.store import postgres

    conn = postgres.open_connection(str(target))
    try:
        return postgres.schema_version(conn) > 0
    finally:
        conn.close()


def store_name(target: str | Path) -> str:
    """The store as messages name it: the file's path, or the URL without its password."""
    if is_postgres_url(target):
        from jira_pm.store.postgres import shown_url

        return shown_url(str(target))
    return str(target)


def is_postgres(conn: Any) -> bool:
    """Whether ``conn`` is a PostgreSQL store connection (else sqlite3)."""
    return getattr(conn, "is_postgres", False)


def _use_wal(conn: sqlite3.Connection) -> None:
    """Put the store in WAL mode, waiting like any writer when another process is at it.

    Switching a new store to WAL needs an exclusive lock, and sqlite answers
    SQLITE_BUSY at once, without its busy handler, while another process opening
    the same new store holds a shared one; so this retries until BUSY_TIMEOUT.
    A store already in WAL mode answers at once.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT
    pause = 0.001
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if _primary(exc) != sqlite3.SQLITE_BUSY or time.monotonic() >= deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


def _connect_readonly(path: Path) -> sqlite3.Connection:
    """The store at ``path`` opened read-only; an out-of-date one is migrated first if it can be."""
    if not path.is_file():
        raise StoreError(f"there is no store at {path}",
                         hint="run `jira-pm sync` first, or check [store] path in jira-pm.toml")
    conn = None
    try:
        try:
            conn = _open(path, readonly=True)
            version = _version(conn, path)
        except sqlite3.OperationalError as exc:
            if conn is not None:
                conn.close()
            if not _wal_unusable_here(exc, path):
                raise
            # A WAL store in a folder we may not write: sqlite cannot create the
            # -shm file a reader needs. With no -wal file holding commits, no
            # writer is at work (a writer needs both files), so reading the file
            # as an unchanging one is exact.
            conn = _open(path, readonly=True, immutable=True)
            version = _version(conn, path)
        conn.execute("PRAGMA foreign_keys=ON")
    except sqlite3.Error as exc:
        if conn is not None:
            conn.close()
        raise store_error(exc, path) from exc
    if version == SCHEMA_VERSION:
        return conn
    conn.close()
    try:  # an older store: migrate it (under its write lock), then read it as usual
        connect(path).close()
    except StoreReadOnly as exc:
        raise StoreReadOnly(
            f"the store {path} has schema version {version} and must be upgraded to "
            f"{SCHEMA_VERSION} before this jira-pm can read it, but it cannot be written",
            hint="run `jira-pm sync` once as a user who may write the store and its folder",
        ) from exc
    return _connect_readonly(path)


def _open(path: Path, *, readonly: bool = False, immutable: bool = False) -> sqlite3.Connection:
    """A sqlite connection in autocommit mode, waiting up to BUSY_TIMEOUT for another writer."""
    target, uri = str(path), False
    if readonly:
        target = path.resolve().as_uri() + "?mode=ro" + ("&immutable=1" if immutable else "")
        uri = True
    conn = sqlite3.connect(target, uri=uri, timeout=BUSY_TIMEOUT, isolation_level=None)
    conn.row_factory = sqlite3.Row
    return conn


def _wal_unusable_here(exc: sqlite3.Error, path: Path) -> bool:
    """Whether a read-only open failed only because the folder refuses sqlite's -shm file."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code != sqlite3.SQLITE_READONLY_DIRECTORY and _primary(exc) != sqlite3.SQLITE_CANTOPEN:
        return False
    wal = Path(f"{path}-wal")
    return not wal.exists() or wal.stat().st_size == 0


def is_writable(conn: sqlite3.Connection) -> bool:
    """Whether this connection may write the store (False for a read-only file or folder).

    sqlite opens a file it may not write read-only without a word and only
    refuses the first write, so this tries one: rewriting the schema version
    with its own value, rolled back.
    """
    if is_postgres(conn):
        return _pg_is_writable(conn)
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            conn.execute(f"PRAGMA user_version = {int(version)}")
        finally:
            conn.execute("ROLLBACK")
    except sqlite3.OperationalError as exc:
        if isinstance(store_error(exc), StoreReadOnly):
            return False
        raise
    return True


def _pg_is_writable(conn: Any) -> bool:
    """Whether this database user may write the findings (a read-only server or role: no)."""
    row = conn.execute(
        "SELECT has_table_privilege('findings', 'INSERT,UPDATE'),"
        " current_setting('transaction_read_only') = 'off'").fetchone()
    return bool(row[0] and row[1])


def migrate(conn: sqlite3.Connection, path: str | Path = "<store>") -> None:
    """Apply every migration the store lacks, in one write transaction.

    Several processes may open a new store at once (cron and a user): each
    re-reads the version once it holds the write lock, so only the first
    migrates and the others find the schema already there.
    """
    if _version(conn, path) == SCHEMA_VERSION:
        return  # up to date: no write lock needed
    dialect = "postgresql" if is_postgres(conn) else "sqlite"
    with _migration_lock(conn), transaction(conn):
        version = _version(conn, path)
        for target in range(version, SCHEMA_VERSION):
            for statement in migration(target, dialect):
                conn.execute(statement)
            _set_version(conn, target + 1)


@contextmanager
def _migration_lock(conn: Any) -> Iterator[None]:
    """On PostgreSQL, wait for another process's migration before the transaction begins.

    A transaction that began before the other's commit may still see the old
    catalog (no tables yet) and migrate again; waiting first, outside it, means
    the version is read in a transaction that sees the finished schema.
    """
    if not is_postgres(conn):
        yield
        return
    key = conn.lock_key_sql()
    conn.execute(f"SELECT pg_advisory_lock({key})", ("migrate",))
    try:
        yield
    finally:
        conn.execute(f"SELECT pg_advisory_unlock({key})", ("migrate",))


def _set_version(conn: Any, version: int) -> None:
    if is_postgres(conn):
        from jira_pm.store.postgres import set_schema_version

        set_schema_version(conn, version)
    else:
        conn.execute(f"PRAGMA user_version = {int(version)}")


def _version(conn: sqlite3.Connection, path: str | Path) -> int:
    """The store's schema version; StoreError when it is newer than this jira-pm."""
    if is_postgres(conn):
        from jira_pm.store.postgres import schema_version

        version = schema_version(conn)
    else:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"the store {path} has schema version {version}, newer than this jira-pm "
            f"understands ({SCHEMA_VERSION})",
            hint="upgrade jira-pm, or use another store file",
        )
    return version


def _primary(exc: BaseException) -> int | None:
    """sqlite's primary result code of ``exc`` (SQLITE_READONLY for SQLITE_READONLY_DBMOVED)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return None if code is None else code & 0xFF


READONLY_CODES = {sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM}
READONLY_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS}
DAMAGED_CODES = {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB}


def store_error(exc: BaseException, path: str | Path | None = None) -> StoreError:
    """The one-line StoreError for a sqlite or OS error met on the store at ``path``.

    Only sqlite's own verdict (SQLITE_CORRUPT, SQLITE_NOTADB) makes a store
    "damaged"; a permission problem, a busy lock or a full disk is named as
    such, because the usual cure for damage (rebuild from Jira) throws away the
    write ledger and the findings history.
    """
    if type(exc).__module__.startswith("psycopg") or is_postgres_url(path):
        from jira_pm.store import postgres

        return postgres.store_error(exc, str(path) if is_postgres_url(path) else None)
    where = f"the store {path}" if path else "the store"
    name = Path(path).name if path else "the store file"
    detail = str(exc)
    code = _primary(exc)
    if isinstance(exc, OSError):
        if exc.errno in READONLY_ERRNOS:
            return StoreReadOnly(
                f"cannot write {where}: {exc.strerror} ({exc.filename})",
                hint="check that this user may write the store's folder",
            )
        return StoreError(f"cannot open {where}: {detail}",
                          hint="check [store] path in jira-pm.toml")
    if code in READONLY_CODES:
        return StoreReadOnly(
            f"cannot write {where}: sqlite says {detail!r}",
            hint=f"check that this user may write {name} and its folder (sqlite creates "
                 f"{name}-wal and {name}-shm beside it); read-only commands such as "
                 "`jira-pm status` and `jira-pm audit --no-record` still work",
        )
    if code == sqlite3.SQLITE_CANTOPEN:
        return StoreError(
            f"cannot open {where}: sqlite says {detail!r}",
            hint="check that [store] path in jira-pm.toml names a file, and that this user "
                 "may read and write it and its folder",
        )
    if code in DAMAGED_CODES:
        return StoreError(
            f"{where} is damaged or not a jira-pm store: sqlite says {detail!r}",
            hint="check [store] path in jira-pm.toml; if it is the right file, copy it "
                 "somewhere safe first (it holds the write ledger and findings history), "
                 f"then try `sqlite3 {name} .recover`; rebuild with `jira-pm sync --full` "
                 "into a new file only as a last resort",
        )
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return StoreError(
            f"{where} is locked by another process (jira-pm waits up to "
            f"{BUSY_TIMEOUT:.0f}s for it)",
            hint="let the other jira-pm command (a sync or run) finish, then try again",
        )
    if code == sqlite3.SQLITE_FULL:
        return StoreError(f"cannot write {where}: the disk is full",
                          hint="free space on the disk that holds it")
    if code == sqlite3.SQLITE_IOERR:
        return StoreError(f"cannot read or write {where}: sqlite says {detail!r}",
                          hint="check the disk and file system that hold it")
    return StoreError(f"{where} could not be used: sqlite says {detail!r}",
                      hint="rerun with --debug for the details")


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
