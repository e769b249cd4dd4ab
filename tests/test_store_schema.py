import sqlite3
from datetime import UTC, datetime

import pytest

from jira_pm.errors import StoreError
from jira_pm.model import Person
from jira_pm.store import SCHEMA_VERSION, connect, postgres
from jira_pm.store.issues import FULL_SYNC_DUE, get_meta, get_sync_state, load_site
from jira_pm.store.schema import _version, is_postgres, migration

SQLITE_ONLY = "about SQLite's own files and error codes"


def version_of(conn) -> int:
    return _version(conn, "the store")


def set_version(store, version: int) -> None:
    """Write the schema version of ``store`` behind jira-pm's back."""
    if isinstance(store, str):
        conn = postgres.open_connection(store)
        postgres.set_schema_version(conn, version)
    else:
        conn = sqlite3.connect(store)
        conn.execute(f"PRAGMA user_version = {version}")
    conn.close()


def names(conn, kind: str) -> set[str]:
    """The store's tables (kind "table") or views (kind "view")."""
    if is_postgres(conn):
        table = "information_schema.tables" if kind == "table" else "information_schema.views"
        return {r[0] for r in conn.execute(
            f"SELECT table_name FROM {table} WHERE table_schema = current_schema()")}
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = ?", (kind,))}


def test_new_store_is_migrated_to_the_current_version(store_path):
    """Opening a new store creates every table and view and sets the schema version."""
    conn = connect(store_path)
    assert version_of(conn) == SCHEMA_VERSION
    tables = names(conn, "table")
    assert {"issues", "changes", "worklogs", "versions", "sprints", "findings", "ledger"} <= tables
    assert names(conn, "view") >= {"jira_pm_findings", "jira_pm_issues", "jira_pm_budgets"}
    if not is_postgres(conn):
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_reopening_a_store_keeps_its_data(store_path):
    """A second connect does not re-run migrations over existing data."""
    conn = connect(store_path)
    conn.execute("INSERT INTO meta(key, value) VALUES ('x', '1')")
    conn.close()
    again = connect(store_path)
    assert again.execute("SELECT value FROM meta WHERE key='x'").fetchone()[0] == "1"


def test_a_newer_store_is_refused(store_path):
    """A store from a newer jira-pm is refused with a StoreError naming both versions."""
    connect(store_path).close()
    set_version(store_path, SCHEMA_VERSION + 5)
    with pytest.raises(StoreError, match=str(SCHEMA_VERSION + 5)):
        connect(store_path)


@pytest.mark.sqlite_only(SQLITE_ONLY)
def test_a_file_that_is_not_sqlite_is_a_clear_store_error(store_path):
    """A non-database file is "damaged or not a jira-pm store", with a copy advised first."""
    store_path.write_text("this is not a database" * 100)
    with pytest.raises(StoreError, match="damaged or not a jira-pm store") as raised:
        connect(store_path)
    assert "copy it somewhere safe first" in raised.value.one_line()
    assert "move it aside" not in raised.value.one_line()


def v1_store(path):
    """A store as jira-pm left it at schema 1: one synced issue, an interrupted sync."""
    if isinstance(path, str):
        raw = postgres.open_connection(path)
        for statement in migration(0, "postgresql"):
            raw.execute(statement)
    else:
        raw = sqlite3.connect(path)
        for statement in migration(0):
            raw.execute(statement)
    raw.execute(
        "INSERT INTO issues(id, key, project_key, issue_type, status, status_category, created,"
        " updated, assignee_id, assignee_name, raw, synced_at) VALUES (10001, 'PM-1', 'PM',"
        " 'Story', 'To Do', 'new', '2026-11-01T09:00:00+00:00', '2026-11-02T09:00:00+00:00',"
        " 'acc-1', 'Ann', '{}', '2026-11-21T12:00:00+00:00')"
    )
    raw.execute(
        "INSERT INTO sync_state(scope, cursor, checkpoint) VALUES"
        " ('s', '2026-11-21T12:00:00+00:00', '{\"mode\":\"incremental\"}')"
    )
    raw.commit()
    raw.close()
    set_version(path, 1)


def test_a_v1_store_migrates_keeping_its_issues_and_asks_for_one_full_sync(store_path):
    """V1 -> V2 keeps stored issues (creator unknown), flags a full sync, drops the checkpoint."""
    v1_store(store_path)
    conn = connect(store_path)
    assert version_of(conn) == SCHEMA_VERSION
    [issue] = load_site(conn).issues.values()
    assert (issue.key, issue.assignee, issue.creator) == ("PM-1", Person("acc-1", "Ann"), None)
    assert get_meta(conn, FULL_SYNC_DUE)
    state = get_sync_state(conn, "s")
    assert state.checkpoint is None
    assert state.cursor == datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def test_a_new_store_is_not_flagged_for_a_full_sync(store_path):
    """A store created empty needs no re-fetch: its first sync is full anyway."""
    assert get_meta(connect(store_path), FULL_SYNC_DUE) is None


def test_a_read_only_open_migrates_an_old_store_it_may_write(store_path):
    """`connect(readonly=True)` of a schema-1 store upgrades it first, then reads it."""
    v1_store(store_path)
    conn = connect(store_path, readonly=True)
    assert version_of(conn) == SCHEMA_VERSION
    assert [i.key for i in load_site(conn).issues.values()] == ["PM-1"]


@pytest.mark.sqlite_only(SQLITE_ONLY)
def test_an_old_store_that_cannot_be_written_says_it_needs_an_upgrade(store_path, monkeypatch):
    """A schema-1 store that refuses writes says it must be upgraded, not that it is damaged."""
    import jira_pm.store.schema as schema
    from jira_pm.errors import StoreReadOnly

    v1_store(store_path)
    real_open = schema._open
    monkeypatch.setattr(schema, "_open", lambda path, *, readonly=False, immutable=False:
                        real_open(path, readonly=True, immutable=immutable))
    with pytest.raises(StoreReadOnly, match="must be upgraded to") as raised:
        connect(store_path, readonly=True)
    assert "damaged" not in raised.value.one_line()


def test_a_read_only_open_never_creates_a_store(store_path):
    """`connect(readonly=True)` where there is no file raises StoreError and creates nothing."""
    with pytest.raises(StoreError, match="there is no (jira-pm )?store (at|in)"):
        connect(store_path, readonly=True)
    assert not store_path.exists()
