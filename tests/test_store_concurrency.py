"""The store under concurrent use: several processes creating it at once, audit beside a writer."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading

from click.testing import CliRunner
from test_audit import workdir  # noqa: F401  (the fixture: a config and a synced store)

from jira_pm.cli import main
from jira_pm.store import SCHEMA_VERSION, connect

OPENERS = 6
ROUNDS = 4


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
    """Six processes creating the same new store at the same moment all get a migrated store."""
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


def test_audit_waits_for_a_writer_instead_of_failing(workdir, monkeypatch):  # noqa: F811
    """An audit that records while another process holds a write transaction waits for it."""
    import jira_pm.engine as engine

    writer = sqlite3.connect(workdir / "store.sqlite", isolation_level=None,
                             check_same_thread=False)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO meta(key, value) VALUES ('writer', '1')")
    evaluate = engine.evaluate
    commit_later = threading.Timer(0.3, writer.execute, ("COMMIT",))

    def evaluate_then_let_the_writer_finish_soon(*args, **kwargs):
        # The audit has read its snapshot; it records while the writer still holds
        # the lock, and the writer commits a moment later (a run's sync page).
        commit_later.start()
        return evaluate(*args, **kwargs)

    monkeypatch.setattr(engine, "evaluate", evaluate_then_let_the_writer_finish_soon)
    result = CliRunner().invoke(main, ["audit", "--format", "json"])
    commit_later.join()
    writer.close()
    assert result.exit_code == 0, result.output
    conn = connect(workdir / "store.sqlite")
    assert conn.execute("SELECT COUNT(*) FROM findings").fetchone()[0] == 3
    assert conn.execute("SELECT value FROM meta WHERE key = 'writer'").fetchone()[0] == "1"
    conn.close()
