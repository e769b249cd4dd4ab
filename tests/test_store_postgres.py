"""PostgreSQL-only behaviour: several runners on one database, advisory locks, errors, config."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_run_sandbox import EXPECTED_LABELS, labels, scenario

from jira_pm.config import load_settings, settings_from_text
from jira_pm.errors import ConfigError, LockBusy, StoreError, StoreReadOnly
from jira_pm.redaction import redact
from jira_pm.sandbox.server import Sandbox
from jira_pm.store import connect, ledger
from jira_pm.store.locks import run_lock_free, sync_lock

# The scenario's labels after a run of scope ABC, and of scope OUT (OUT-1 is in the
# overdue release 9.9: its own scope's run labels it).
EXPECTED_ABC_LABELS = {k: v for k, v in EXPECTED_LABELS.items() if k.startswith("ABC")}
EXPECTED_OUT_LABELS = {"OUT-1": ["pm-overdue", "pm-stale"]}


def _script() -> Path:
    script = Path(sys.executable).with_name("jira-pm")
    if not script.exists():
        pytest.skip(f"no console script beside {sys.executable}")
    return script


def _config(folder: Path, sandbox: Sandbox, url: str, project: str) -> Path:
    folder.mkdir(exist_ok=True)
    config = folder / "jira-pm.toml"
    config.write_text(
        f'[jira]\nurl = "{sandbox.url}"\ndeployment = "server"\n'
        f'pat = "{sandbox.credentials()["pat"]}"\n'
        f'[scope]\nprojects = ["{project}"]\n[store]\nurl = "{url}"\n', encoding="utf-8")
    return config


@pytest.mark.integration
def test_runners_of_two_scopes_share_one_database_and_both_finish(tmp_path, pg_store):
    """Two `jira-pm run` processes for different scopes on one database run at once, both exact.

    Each scope keeps its store in a schema of its own (docs/deploy.md): a store
    holds one scope's synced issues, which its sync reconciles against Jira.
    """
    script = _script()
    stores = {"ABC": pg_store, "OUT": pg_store.with_name("out")}
    with Sandbox("server", scenario=scenario(), latency_ms=20) as sandbox:
        commands = [[str(script), "--config",
                     str(_config(tmp_path / p, sandbox, stores[p], p)), "run", "--quiet"]
                    for p in ("ABC", "OUT")]
        procs = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for c in commands]
        results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
        for code, _, err in results:
            assert code == 0, err
        found = labels(sandbox)
        assert {k: v for k, v in found.items() if k.startswith("ABC")} == EXPECTED_ABC_LABELS
        assert {k: sorted(v) for k, v in found.items() if k.startswith("OUT")} \
            == EXPECTED_OUT_LABELS
    for store in stores.values():
        conn = connect(store)
        assert [r.outcome for r in ledger.runs(conn)] == ["ok"]
        conn.close()


def _started_runs(store) -> int:
    """Runs recorded in the store so far (0 while it does not exist yet)."""
    try:
        conn = connect(store, readonly=True)
    except Exception:  # not created yet, or being created
        return 0
    try:
        return len(ledger.runs(conn))
    except Exception:  # the schema is being created by the run itself
        return 0
    finally:
        conn.close()


@pytest.mark.integration
def test_a_second_runner_of_the_same_scope_exits_0_and_does_nothing(tmp_path, pg_store):
    """While a run of a scope holds its lock, another run of that scope exits 0 without work."""
    script = _script()
    # Slow answers keep the first run going well past the second's start-up, on a busy box too.
    with Sandbox("server", scenario=scenario(), latency_ms=250) as sandbox:
        config = _config(tmp_path / "a", sandbox, pg_store, "ABC")
        settings = load_settings(config)
        command = [str(script), "--config", str(config), "run"]
        first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            # Watch for the first run's row (written once it holds the lock) rather than probing
            # the lock by taking it: a probe holding it for a moment could make the first run
            # find the lock busy and skip.
            deadline = time.monotonic() + 30
            while not _started_runs(pg_store):
                assert first.poll() is None and time.monotonic() < deadline, "never started"
                time.sleep(0.05)
            assert not run_lock_free(settings.store)
            second = subprocess.run(command, capture_output=True, text=True, timeout=60)
            still_running = first.poll() is None
        finally:
            first.wait(timeout=120)
        assert first.returncode == 0
        assert still_running, "the first run ended before the second started"
        assert second.returncode == 0, second.stderr
        assert "did nothing" in second.stdout + second.stderr
        abc = {k: v for k, v in labels(sandbox).items() if k.startswith("ABC")}
        assert abc == EXPECTED_ABC_LABELS
    conn = connect(pg_store)
    assert len(ledger.runs(conn)) == 1  # the second never started a run
    conn.close()


def test_a_killed_holder_s_lock_is_released_by_the_database(pg_store):
    """A process killed while it holds a sync lock leaves the lock free once it is gone."""
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\n"
         "from jira_pm.store.locks import sync_lock\n"
         f"with sync_lock({str(pg_store)!r}):\n"
         "    print('held', flush=True)\n"
         "    time.sleep(60)\n"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(LockBusy), sync_lock(pg_store):
            pass
    finally:
        holder.kill()
        holder.wait(timeout=10)
    deadline = time.monotonic() + 10
    while True:
        try:
            with sync_lock(pg_store):
                break
        except LockBusy:
            assert time.monotonic() < deadline, "the database kept a dead process's lock"
            time.sleep(0.05)


def test_an_alive_run_of_another_scope_is_not_closed_as_interrupted(pg_store):
    """close_interrupted closes a dead run's rows but leaves a run whose connection lives."""
    alive, dead, mine = connect(pg_store), connect(pg_store), connect(pg_store)
    ledger.start_run(alive, "run-alive", "run")
    ledger.start_run(dead, "run-dead", "run")
    ledger.record_pending(alive, run_id="run-alive", issue_id=1, issue_key="ABC-1",
                          operation="labels", label="+pm-overdue")
    dead.close()  # its process died: the database drops its lock
    ledger.start_run(mine, "run-mine", "run")
    assert ledger.close_interrupted(mine, "run-mine") == (1, 0)
    assert {r.id: r.outcome for r in ledger.runs(mine)} == {
        "run-alive": None, "run-dead": "interrupted", "run-mine": None}
    alive.close()
    mine.close()


def test_a_read_only_database_session_is_cannot_write_not_damaged(pg_store):
    """A write refused by a read-only transaction is StoreReadOnly, naming the store."""
    connect(pg_store).close()
    conn = connect(pg_store, readonly=True)
    with pytest.raises(StoreReadOnly, match="cannot write the store database"):
        conn.execute("INSERT INTO meta(key, value) VALUES ('x', '1')")
    conn.close()


def test_an_unreachable_database_is_one_line_without_the_password(pg_database):
    """A refused connection says "cannot connect" and never shows the URL's password."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql://jira:s3cret-pw-42@127.0.0.1:{port}/jira"
    with pytest.raises(StoreError) as raised:
        connect(url)
    line = redact(raised.value.one_line())
    assert "cannot connect to the store database" in line
    assert "s3cret-pw-42" not in line and "jira:***@127.0.0.1" in line


def test_store_url_comes_from_the_environment_first_and_must_be_postgresql(tmp_path):
    """$JIRA_PM_STORE_URL beats [store] url; a non-PostgreSQL URL or both keys is a ConfigError."""
    base = '[jira]\nurl = "https://jira.example.test"\n[scope]\nprojects = ["PM"]\n'
    text = base + '[store]\nurl = "postgresql://a@db/one"\n'
    env = {"JIRA_PM_STORE_URL": "postgresql://a:pw-hidden@db/two"}
    settings = settings_from_text(text, tmp_path / "c.toml", env=env)
    assert settings.store == "postgresql://a:pw-hidden@db/two"
    assert settings.store_name == "postgresql://a:***@db/two"
    assert redact("pw-hidden") == "***"
    with pytest.raises(ConfigError, match="is not a PostgreSQL URL"):
        settings_from_text(base + '[store]\nurl = "mysql://db/x"\n', tmp_path / "c.toml", env={})
    with pytest.raises(ConfigError, match="sets both path and url"):
        settings_from_text(base + '[store]\nurl = "postgresql://db/x"\npath = "s.sqlite"\n',
                           tmp_path / "c.toml", env={})


def test_a_missing_database_says_so_and_how_to_create_it(pg_database):
    """A URL naming a database that does not exist says which, and to create it."""
    from pg_support import with_database

    url = with_database(pg_database, "no_such_db")
    with pytest.raises(StoreError) as missing:
        connect(url)
    line = missing.value.one_line()
    assert 'database "no_such_db" does not exist' in line and "createdb" in line
    assert "check that PostgreSQL runs" not in line


def test_an_unknown_database_user_is_a_login_error(pg_database):
    """A URL naming a user the server does not know is a login error naming [store] url."""
    user_part, at, rest = pg_database.partition("@")
    url = f"postgresql://nobody_here{at}{rest}"
    with pytest.raises(StoreError) as refused:
        connect(url)
    line = refused.value.one_line()
    assert line.startswith("cannot log in to the store database") and "[store] url" in line


@pytest.mark.parametrize(("fatal", "starts", "says"), [
    ('password authentication failed for user "jirapm"', "cannot log in to",
     "check the user and password"),
    ("the database system is starting up", "cannot connect to", "check that PostgreSQL runs"),
])
def test_connect_time_refusals_name_their_cause_without_the_password(fatal, starts, says):
    """libpq's refusals (no SQLSTATE at connect time) get their own fix; unmapped ones still
    say "cannot connect"; the password is never shown."""
    import psycopg

    from jira_pm.store.postgres import store_error

    exc = psycopg.OperationalError(
        f'connection failed: connection to server at "127.0.0.1", port 5432 failed: FATAL:  '
        f"{fatal}")
    line = store_error(exc, "postgresql://jirapm:hunter2-pw@127.0.0.1:5432/pm").one_line()
    assert line.startswith(f"{starts} the store database postgresql://jirapm:***@")
    assert fatal in line and says in line and "hunter2" not in line
