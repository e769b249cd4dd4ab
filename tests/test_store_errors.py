"""Store failures named for what they are; read-only commands on a read-only store."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from test_audit import CONFIG, workdir  # noqa: F401  (the fixture: a config and a synced store)

import jira_pm.store.schema as schema
from jira_pm.cli import main
from jira_pm.cli.main import ErrorHandlingGroup
from jira_pm.errors import StoreReadOnly
from jira_pm.store import connect
from jira_pm.store.schema import store_error

JIRA_PM = Path(sys.executable).with_name("jira-pm")
NOBODY = 65534


def _findings(store: Path) -> int:
    conn = connect(store)
    try:
        return conn.execute("SELECT COUNT(*) FROM findings").fetchone()[0]
    finally:
        conn.close()


def _read_only_opens(monkeypatch) -> None:
    """Every open of the store gets sqlite's mode=ro, as for a file this user may not write."""
    real_open = schema._open

    def read_only_open(path, *, readonly=False, immutable=False):
        return real_open(path, readonly=True, immutable=immutable)

    monkeypatch.setattr(schema, "_open", read_only_open)


@pytest.mark.sqlite_only("sqlite's error codes; tests/test_store_postgres.py has PostgreSQL's")
def test_a_refused_write_mid_command_is_cannot_write_not_damaged(store_path):
    """A sqlite "readonly database" error escaping a command is a permissions line, exit 2."""
    connect(store_path).close()

    @click.group(cls=ErrorHandlingGroup)
    def group():
        pass

    @group.command()
    def write():
        conn = sqlite3.connect(f"{store_path.as_uri()}?mode=ro", uri=True)
        conn.execute("INSERT INTO meta(key, value) VALUES ('k', '1')")

    result = CliRunner().invoke(group, ["write"])
    assert result.exit_code == 2
    assert "cannot write the store" in result.stderr
    assert "damaged" not in result.stderr and "move it aside" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.sqlite_only("sqlite's error codes; tests/test_store_postgres.py has PostgreSQL's")
def test_store_error_calls_a_store_damaged_only_when_sqlite_says_so(store_path):
    """CORRUPT/NOTADB read "damaged" (copy it first); read-only and busy say what they are."""
    connect(store_path).close()
    read_only = sqlite3.connect(f"{store_path.as_uri()}?mode=ro", uri=True)
    with pytest.raises(sqlite3.OperationalError) as refused:
        read_only.execute("INSERT INTO meta(key, value) VALUES ('k', '1')")
    error = store_error(refused.value, store_path)
    assert isinstance(error, StoreReadOnly) and "damaged" not in error.one_line()

    writer = sqlite3.connect(store_path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    impatient = sqlite3.connect(store_path, timeout=0, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError) as busy:
        impatient.execute("BEGIN IMMEDIATE")
    writer.execute("ROLLBACK")
    assert "is locked by another process" in store_error(busy.value, store_path).one_line()

    not_a_db = store_path.with_name("notes.txt")
    not_a_db.write_text("not a database" * 200)
    with pytest.raises(sqlite3.DatabaseError) as garbage:
        sqlite3.connect(not_a_db).execute("SELECT * FROM sqlite_master").fetchall()
    damaged = store_error(garbage.value, not_a_db).one_line()
    assert "damaged" in damaged and "copy it somewhere safe first" in damaged


def test_status_with_no_store_creates_none(tmp_path):
    """`status` where no store exists says so and leaves no file (nor folder) behind."""
    config = tmp_path / "jira-pm.toml"
    config.write_text('[jira]\nurl = "https://example.atlassian.net"\n[scope]\n'
                      'projects = ["PM"]\n[store]\npath = "data/store.sqlite"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(config), "status"])
    assert result.exit_code == 0, result.output
    assert "no store yet" in result.output and "last sync: never" in result.output
    assert not (tmp_path / "data").exists()


@pytest.mark.sqlite_only("sqlite's mode=ro opens; PostgreSQL read-only roles are in "
                         "tests/test_store_postgres.py")
def test_status_and_audit_work_on_a_store_opened_read_only(workdir, store_path,  # noqa: F811
                                                           monkeypatch):
    """With mode=ro opens, status works and audit shows findings, records none, says so once."""
    store = store_path
    _read_only_opens(monkeypatch)
    status = CliRunner().invoke(main, ["status"])
    assert status.exit_code == 0, status.output
    assert "issues: 3" in status.output
    audit = CliRunner().invoke(main, ["audit", "--format", "csv"])
    assert audit.exit_code == 0, audit.output
    assert "OD001" in audit.stdout
    assert audit.stderr.count("read-only") == 1 and "not recorded" in audit.stderr
    monkeypatch.undo()
    assert _findings(store) == 0


def test_audit_no_record_reads_only(workdir, store_path):  # noqa: F811
    """`audit --no-record` shows the findings, records nothing and prints no notice."""
    result = CliRunner().invoke(main, ["audit", "--no-record", "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert "OD001" in result.stdout and result.stderr == ""
    assert _findings(store_path) == 0


def _unprivileged(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """Run jira-pm as a user the file permissions apply to (root ignores them)."""
    prefix: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root, which ignores file permissions, and setpriv is "
                        "absent to run the check as an unprivileged user")
        prefix = [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(cwd), "JIRA_PAT": "t0ken-x",
           "JIRA_PM_CONFIG": str(cwd / "jira-pm.toml")}
    return subprocess.run([*prefix, str(JIRA_PM), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=60)


@pytest.mark.sqlite_only("file and folder permissions of a SQLite store")
def test_a_really_read_only_store_folder(workdir, store_path):  # noqa: F811
    """Store and folder not writable: reads work, writes say "cannot write", nothing changes."""
    folder = Path(tempfile.mkdtemp(prefix="jira-pm-ro-"))
    try:
        shutil.copy(store_path, folder / "store.sqlite")
        (folder / "jira-pm.toml").write_text(CONFIG, encoding="utf-8")  # path = "store.sqlite"
        folder.chmod(0o555)
        (folder / "store.sqlite").chmod(0o444)
        probe = _unprivileged(["--version"], folder)
        if probe.returncode != 0:
            pytest.skip(f"the unprivileged user cannot run jira-pm here: {probe.stderr[-200:]}")

        status = _unprivileged(["status"], folder)
        assert status.returncode == 0, status.stderr
        assert "issues: 3" in status.stdout
        audit = _unprivileged(["audit", "--format", "csv"], folder)
        assert audit.returncode == 0, audit.stderr
        assert "OD001" in audit.stdout and "not recorded" in audit.stderr
        quiet = _unprivileged(["audit", "--no-record", "--format", "csv"], folder)
        assert quiet.returncode == 0 and quiet.stderr == "", quiet.stderr
        for command in (["sync"], ["run"]):
            refused = _unprivileged(command, folder)
            assert refused.returncode == 2, (command, refused.stderr)
            assert "cannot write" in refused.stderr, (command, refused.stderr)
            assert "damaged" not in refused.stderr and "move it aside" not in refused.stderr
        assert sorted(p.name for p in folder.iterdir()) == ["jira-pm.toml", "store.sqlite"]
        folder.chmod(0o755)
        (folder / "store.sqlite").chmod(0o644)
        assert _findings(folder / "store.sqlite") == 0
    finally:
        folder.chmod(0o755)
        shutil.rmtree(folder)
