"""A throwaway PostgreSQL cluster for the tests, and one fresh schema per test store.

``.ci/run`` may start a server and export ``JIRA_PM_TEST_PG_URL`` (an admin URL);
otherwise the first test that needs PostgreSQL starts its own cluster here:
``initdb`` into a temporary folder (as the unprivileged ``postgres`` or ``nobody``
user when the tests run as root, since initdb refuses root), listening on
127.0.0.1 and a free port only, stopped by its process id at the end of the
session. Without PostgreSQL binaries the PostgreSQL half of the store tests is
skipped with the reason, except under ``CI=true``, where it fails.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest

TEST_DATABASE = "jira_pm_test"


def _binaries() -> Path | None:
    """The folder holding initdb and postgres, or None."""
    found = shutil.which("initdb")
    if found:
        return Path(os.path.realpath(found)).parent
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(folder, "initdb").exists():
            return Path(folder)
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_user() -> list[str]:
    """The prefix that runs a command as an unprivileged user (nothing when not root)."""
    if os.geteuid() != 0:
        return []
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return ["runuser", "-u", name, "--"]
    raise RuntimeError("running as root with neither a postgres nor a nobody user for initdb")


class Cluster:
    """A PostgreSQL server started for this test session (stopped by its pid)."""

    def __init__(self, binaries: Path):
        self.root = Path(tempfile.mkdtemp(prefix="jira-pm-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.binaries = binaries
        self.pid: int | None = None
        prefix = _as_user()
        if prefix:
            user = prefix[2]
            pw = pwd.getpwnam(user)
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        subprocess.run([*prefix, str(binaries / "initdb"), "-D", str(self.data), "-A", "trust",
                        "-U", "postgres", "-E", "UTF8", "--no-sync"],
                       check=True, capture_output=True, cwd=self.root)
        log = self.root / "server.log"
        # fsync off: a throwaway cluster need not survive a power cut.
        subprocess.run([*prefix, str(binaries / "pg_ctl"), "-D", str(self.data), "-l", str(log),
                        "-w", "-t", "60", "-o",
                        f"-h 127.0.0.1 -p {self.port} -k {self.root} -F -c max_connections=200",
                        "start"], check=True, capture_output=True, cwd=self.root)
        self.pid = int((self.data / "postmaster.pid").read_text().split()[0])
        self.admin_url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        """Fast shutdown by the postmaster's pid; wait for it to go."""
        if self.pid is None:
            return
        try:
            os.kill(self.pid, signal.SIGINT)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        self.pid = None
        shutil.rmtree(self.root, ignore_errors=True)


def admin_url_or_skip(request: pytest.FixtureRequest) -> tuple[str, Cluster | None]:
    """An admin URL of a PostgreSQL server, starting one if need be; skip (fail in CI) if none."""
    given = os.environ.get("JIRA_PM_TEST_PG_URL")
    if given:
        return given, None
    binaries = _binaries()
    problem = None
    if binaries is None:
        problem = ("PostgreSQL is not installed (no initdb on PATH or in /usr/lib/postgresql): "
                   "install postgresql, or set JIRA_PM_TEST_PG_URL to a server's admin URL")
    else:
        try:
            cluster = Cluster(binaries)
            return cluster.admin_url, cluster
        except (OSError, RuntimeError, subprocess.CalledProcessError) as exc:
            stderr = getattr(exc, "stderr", b"") or b""
            problem = f"could not start a test PostgreSQL: {exc} {stderr.decode(errors='replace')}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(problem)
    pytest.skip(problem)


def with_database(admin_url: str, name: str) -> str:
    """``admin_url`` pointing at database ``name`` instead."""
    base, _, _ = admin_url.rpartition("/")
    return f"{base}/{name}"


def ensure_database(admin_url: str) -> str:
    """The URL of the tests' database, created if missing."""
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                            (TEST_DATABASE,)).fetchone():
            conn.execute(f'CREATE DATABASE "{TEST_DATABASE}"')
    return with_database(admin_url, TEST_DATABASE)


class PgStore(str):
    """A test store on PostgreSQL: a URL whose search_path is a schema of its own.

    It stands in for the SQLite fixture's Path where tests need it:
    ``with_name`` gives a second, separate store; ``exists`` says whether it has a schema.
    """

    database_url: str
    schema: str

    def __new__(cls, database_url: str, schema: str) -> PgStore:
        options = quote(f"-c search_path={schema}", safe="")
        joiner = "&" if "?" in database_url else "?"
        self = super().__new__(cls, f"{database_url}{joiner}options={options}")
        self.database_url, self.schema = database_url, schema
        return self

    @classmethod
    def create(cls, database_url: str, schema: str | None = None) -> PgStore:
        import psycopg

        schema = schema or f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        return cls(database_url, schema)

    def with_name(self, name: str) -> PgStore:
        suffix = "".join(ch if ch.isalnum() else "_" for ch in name.lower())
        return PgStore.create(self.database_url, f"{self.schema}_{suffix}")

    def exists(self) -> bool:
        from jira_pm.store.schema import store_exists

        return store_exists(self)

    def drop(self) -> None:
        import psycopg

        with psycopg.connect(self.database_url, autocommit=True) as conn:
            for (schema,) in conn.execute(
                    "SELECT nspname FROM pg_namespace WHERE nspname = %s OR nspname LIKE %s",
                    (self.schema, f"{self.schema}\\_%")).fetchall():
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@contextlib.contextmanager
def wide_store(request: pytest.FixtureRequest, backend: str, folder: Path):
    """A store for a fixture wider than one test (module scope), where the function-scoped
    ``store_path`` cannot serve: ``folder``/store.sqlite, or a PostgreSQL schema dropped after."""
    if backend != "postgresql":
        yield folder / "store.sqlite"
        return
    store = PgStore.create(request.getfixturevalue("pg_database"))
    try:
        yield store
    finally:
        store.drop()


def store_section(store: str | os.PathLike) -> str:
    """The ``[store]`` section of a config file naming ``store``: ``url`` for a
    PostgreSQL store (the ``store_path`` fixture's PgStore), ``path`` for a SQLite file."""
    import json

    from jira_pm.store.postgres import is_postgres_url

    key = "url" if is_postgres_url(store) else "path"
    return f"[store]\n{key} = {json.dumps(str(store))}\n"


def store_text(store: str | os.PathLike) -> str:
    """Everything a store holds, as text, for tests that look for a leaked secret:
    a SQLite file's bytes (with its -wal and -shm), or every row of a PostgreSQL store's tables."""
    from jira_pm.store.postgres import is_postgres_url

    if not is_postgres_url(store):
        files = sorted(Path(store).parent.glob(Path(store).name + "*"))
        return "".join(f.read_bytes().decode("latin-1") for f in files)
    import psycopg

    with psycopg.connect(str(store)) as conn:
        tables = [name for (name,) in conn.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema()").fetchall()]
        return "\n".join(repr(row) for table in tables
                         for row in conn.execute(f'SELECT * FROM "{table}"').fetchall())


def count_rows(store: str | os.PathLike, sql: str, params: tuple = ()) -> int:
    """The count ``sql`` (``SELECT count(*) ...`` with ``?`` marks) gives on ``store`` now.

    For tests that watch another process write: it reads without jira-pm's
    connect (no migration, no locks), and a store not there yet, or still
    being created, counts 0.
    """
    import sqlite3

    from jira_pm.store.postgres import is_postgres_url, translate

    if is_postgres_url(store):
        import psycopg

        try:
            with psycopg.connect(str(store), autocommit=True) as conn:
                return conn.execute(translate(sql, bool(params)), params).fetchone()[0]
        except psycopg.errors.UndefinedTable:
            return 0
    if not Path(store).exists():
        return 0
    try:
        conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=1)
        try:
            return conn.execute(sql, params).fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return 0
