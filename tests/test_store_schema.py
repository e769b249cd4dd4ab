import sqlite3

import pytest

from jira_pm.errors import StoreError
from jira_pm.store import SCHEMA_VERSION, connect


def test_new_store_is_migrated_to_the_current_version(store_path):
    """Opening a new store creates every table and sets user_version."""
    conn = connect(store_path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"issues", "changes", "worklogs", "versions", "sprints", "findings", "ledger"} <= tables
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
    raw = sqlite3.connect(store_path)
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    raw.close()
    with pytest.raises(StoreError, match=str(SCHEMA_VERSION + 5)):
        connect(store_path)


def test_a_file_that_is_not_sqlite_is_a_clear_store_error(store_path):
    """A non-database file is reported as an unusable store, not a traceback."""
    store_path.write_text("this is not a database" * 100)
    with pytest.raises(StoreError, match="not a usable jira-pm store"):
        connect(store_path)
