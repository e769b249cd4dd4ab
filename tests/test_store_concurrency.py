"""The store under concurrent use: several processes creating it at once, audit beside a writer."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
import time

import pytest
from click.testing import CliRunner
from test_audit import workdir  # noqa: F401  (the fixture: a config and a synced store)

from jira_pm.cli import main
from jira_pm.store import SCHEMA_VERSION, connect

OPENERS = 8
ROUNDS = 6


def _open_at_barrier(path: str, barrier, results) -> None:
    """Wait for every opener, then open the store; report the error text, or None."""
    try:
        barrier.wait(timeout=30)
        conn = connect(path)
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        conn.close()
        results.put(None if version == SCHEMA_VERSION else f"user_version {version}")
    except Exception as exc:  # the test reports what each process met
        results.put(f"{type(exc).__name__}: {exc}")


def test_processes_opening_a_new_store_at_once_all_succeed(tmp_path):
    """Eight processes creating the same new store at the same moment all get a migrated store."""
    context = multiprocessing.get_context("fork")
    for round_ in range(ROUNDS):
        path = str(tmp_path / f"store-{round_}.sqlite")
        barrier, results = context.Barrier(OPENERS), context.Queue()
        workers = [context.Process(target=_open_at_barrier, args=(path, barrier, results))
                   for _ in range(OPENERS)]
        for worker in workers:
            worker.start()
        outcomes = [results.get(timeout=60) for _ in workers]
        for worker in workers:
            worker.join(timeout=30)
        assert [o for o in outcomes if o] == [], f"round {round_}"
        conn = connect(path)
        columns = {row[1] for row in conn.execute("PRAGMA table_info(issues)")}
        assert {"creator_id", "creator_name"} <= columns
        assert conn.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'meta'"
                            ).fetchone()[0] == 1
        conn.close()


@pytest.mark.sqlite_only("a second sqlite3 connection holding SQLite's write lock (busy timeout)")
def test_audit_waits_for_a_writer_instead_of_failing(workdir, store_path,  # noqa: F811
                                                     monkeypatch):
    """An audit that records while another process holds a write transaction waits for it."""
    import jira_pm.engine as engine

    writer = sqlite3.connect(store_path, isolation_level=None,
                             check_same_thread=False)
    evaluate = engine.evaluate
    commit_later = threading.Timer(0.3, writer.execute, ("COMMIT",))

    def evaluate_while_a_writer_starts(*args, **kwargs):
        # A run starts writing (a sync page) while the audit evaluates: the audit
        # records while the writer holds the lock, which it releases a moment later.
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("INSERT INTO meta(key, value) VALUES ('writer', '1')")
        commit_later.start()
        return evaluate(*args, **kwargs)

    monkeypatch.setattr(engine, "evaluate", evaluate_while_a_writer_starts)
    result = CliRunner().invoke(main, ["audit", "--format", "json"])
    commit_later.join()
    writer.close()
    assert result.exit_code == 0, result.output
    conn = connect(store_path)
    assert conn.execute("SELECT COUNT(*) FROM findings").fetchone()[0] == 3
    assert conn.execute("SELECT value FROM meta WHERE key = 'writer'").fetchone()[0] == "1"
    conn.close()


def test_run_waiting_on_the_lock_creates_no_store(tmp_path, store_path, monkeypatch):
    """`run` takes the run lock before it opens the store: a skipped run leaves none behind."""
    from pg_support import store_section

    from jira_pm.store.locks import run_lock

    monkeypatch.setenv("JIRA_PAT", "t0ken-x")
    config = tmp_path / "jira-pm.toml"
    config.write_text('[jira]\nurl = "https://jira.example.test"\n[scope]\nprojects = ["PM"]\n'
                      + store_section(store_path), encoding="utf-8")
    with run_lock(store_path, "busy", ""):
        result = CliRunner().invoke(main, ["--config", str(config), "run"])
    assert result.exit_code == 0, result.output
    assert "another jira-pm run" in result.stderr and "lock" in result.stderr
    assert not store_path.exists()


def test_switching_a_new_store_to_wal_retries_an_immediate_busy(monkeypatch):
    """sqlite's instant SQLITE_BUSY on the WAL switch (a peer mid-switch) is waited out."""
    import jira_pm.store.schema as schema

    class PeerSwitching:
        """A connection whose WAL switch meets a peer's lock twice, as in the race above."""

        calls = 0

        def execute(self, sql):
            self.calls += 1
            if self.calls <= 2:
                busy = sqlite3.OperationalError("database is locked")
                busy.sqlite_errorcode = sqlite3.SQLITE_BUSY
                raise busy

    monkeypatch.setattr(schema.time, "sleep", lambda seconds: None)
    conn = PeerSwitching()
    schema._use_wal(conn)
    assert conn.calls == 3


def test_run_lock_held_for_an_instant_is_waited_for(store_path):
    """A run finding the run lock held for an instant (a `jira-pm log` probe) waits and runs."""
    from jira_pm.store.locks import run_lock

    taken, released = threading.Event(), threading.Event()

    def probe() -> None:
        with run_lock(store_path, "busy", ""):
            taken.set()
            released.wait(timeout=0.3)

    prober = threading.Thread(target=probe)
    prober.start()
    assert taken.wait(timeout=30)
    try:
        with run_lock(store_path, "busy", ""):
            ran = True
    finally:
        released.set()
        prober.join(timeout=30)
    assert ran


def test_run_lock_held_by_a_run_is_busy_after_the_grace(store_path):
    """A run lock held past the grace (another run) makes the second one busy, not wait for ever."""
    from jira_pm.errors import LockBusy
    from jira_pm.store.locks import RUN_LOCK_GRACE, run_lock

    with run_lock(store_path, "busy", ""):
        started = time.monotonic()
        with pytest.raises(LockBusy), run_lock(store_path, "busy", ""):
            pass
        assert RUN_LOCK_GRACE <= time.monotonic() - started < RUN_LOCK_GRACE + 5
