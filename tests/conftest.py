"""Shared fixtures: the ../shared folder (skipped with a reason when absent), and the store.

Every test that takes ``store_path`` (directly or through another fixture) runs
twice: on a SQLite file and on a PostgreSQL schema of its own (see
tests/pg_support.py). A test that is about SQLite itself (its files, WAL,
pragmas, file permissions) is marked ``sqlite_only`` and says why.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


def shared_path(*parts: str) -> Path:
    """A path under ../shared, or skip the test saying what is missing."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(
            f"{path} is absent: these tests need ../shared/ beside the checkout (CI has it)"
        )
    return path


def load_recorded(relative: str):
    """The JSON of one file under ../shared/jira-recorded (skips when absent)."""
    return json.loads(shared_path("jira-recorded", relative).read_text(encoding="utf-8"))


BACKENDS = ("sqlite", "postgresql")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only(reason): a store test about SQLite itself")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every store test on both backends, unless it is marked sqlite_only."""
    if "store_backend" in metafunc.fixturenames:
        only = metafunc.definition.get_closest_marker("sqlite_only")
        metafunc.parametrize("store_backend", BACKENDS[:1] if only else BACKENDS,
                             indirect=True)


@pytest.fixture
def store_backend(request: pytest.FixtureRequest) -> str:
    """Which backend this run of a store test uses: "sqlite" or "postgresql"."""
    return request.param


@pytest.fixture(scope="session")
def pg_database(request: pytest.FixtureRequest):
    """The URL of the tests' PostgreSQL database (a throwaway server for the session)."""
    from pg_support import admin_url_or_skip, ensure_database

    admin_url, cluster = admin_url_or_skip(request)
    try:
        yield ensure_database(admin_url)
    finally:
        if cluster is not None:
            cluster.stop()


@pytest.fixture
def pg_store(request: pytest.FixtureRequest, pg_database: str):
    """A fresh, empty PostgreSQL store (a schema of its own), dropped afterwards."""
    from pg_support import PgStore

    store = PgStore.create(pg_database)
    yield store
    store.drop()


@pytest.fixture
def store_path(request: pytest.FixtureRequest, tmp_path: Path, store_backend: str):
    """A fresh store: a file path in the test's folder, or a PostgreSQL store's URL."""
    if store_backend == "postgresql":
        return request.getfixturevalue("pg_store")
    return tmp_path / "jira-pm.sqlite"
