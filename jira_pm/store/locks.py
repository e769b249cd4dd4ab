"""Run and sync locks: one holder at a time, and a clear word for the one that waits.

Two locks exist, each one per store (a store holds one scope, see
``sync.identity``). The run lock is held by ``run``, ``apply`` and ``clean``:
one write-back at a time. The sync lock is held by every sync, whether
``jira-pm sync`` or the sync inside ``run``: two syncs would interleave their
checkpoints, or, of two scopes on one new store, both claim it. Neither waits:
the second process is told at once (``LockBusy``) and decides what that means
(cron's ``run`` exits 0) — except that the run lock is waited for up to
``RUN_LOCK_GRACE`` seconds, because ``jira-pm log`` tells a live run from a
killed one by taking it for an instant, and a cron run starting in that
instant must not skip its turn.

On SQLite they are files beside the store (``<store>.lock``,
``<store>.sync.lock``). On PostgreSQL they are session advisory locks in the
database, keyed by the store's schema and held on a connection of their own,
so runners on several hosts share them, runners of other schemas (other
scopes) work at once, and the database releases a killed runner's lock when its
connection goes (their store writes still queue one transaction at a time, see
``store.postgres``).
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from jira_pm.errors import LockBusy, StoreReadOnly
from jira_pm.store.postgres import is_postgres_url

IN_MEMORY = ":memory:"
# Long enough to outlast a probe of the run lock (a file lock, or a database
# connection and one query), short enough that a second run is told at once.
RUN_LOCK_GRACE = 2.0
POLL_SECONDS = 0.05


def run_lock_path(store_path: str | Path) -> Path:
    """The run lock of a store: beside it, so two configs on one store share it."""
    return Path(f"{store_path}.lock")


def sync_lock_path(store_path: str | Path) -> Path:
    """The sync lock of a store: beside it, as the run lock."""
    return Path(f"{store_path}.sync.lock")


@contextmanager
def hold(path: Path, busy: str, hint: str, wait: float = 0.0) -> Iterator[None]:
    """Hold the lock file ``path``; LockBusy(busy, hint) when another holder keeps it ``wait`` s."""
    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=wait, poll_interval=POLL_SECONDS)
    except Timeout:
        raise LockBusy(busy, hint=hint) from None
    except OSError as exc:  # a folder this user may not write: say so, not "internal error"
        raise StoreReadOnly(f"cannot write the lock {path}: {exc.strerror}",
                            hint="check that this user may write the store's folder") from exc
    try:
        yield
    finally:
        lock.release()


@contextmanager
def hold_in_database(url: str, name: str, busy: str, hint: str,
                     wait: float = 0.0) -> Iterator[None]:
    """Hold the advisory lock ``name`` of the PostgreSQL store at ``url``; LockBusy when held.

    A holder that keeps it ``wait`` seconds makes it busy.

    The lock lives on a connection of its own, open while it is held: when the
    process dies, the database ends the session and the lock with it.
    """
    from jira_pm.store.postgres import open_connection

    conn = open_connection(url)
    try:
        deadline = time.monotonic() + wait
        while not conn.try_lock(name):
            if time.monotonic() >= deadline:
                raise LockBusy(busy, hint=hint)
            time.sleep(POLL_SECONDS)
        try:
            yield
        finally:
            conn.unlock(name)
    finally:
        conn.close()


@contextmanager
def run_lock(store: str | Path, busy: str, hint: str) -> Iterator[None]:
    """Hold the run lock of the store (a SQLite file, or a schema of a PostgreSQL database).

    A holder that keeps it ``RUN_LOCK_GRACE`` seconds makes it busy.
    """
    if is_postgres_url(store):
        with hold_in_database(str(store), "run", busy, hint, wait=RUN_LOCK_GRACE):
            yield
        return
    with hold(run_lock_path(store), busy, hint, wait=RUN_LOCK_GRACE):
        yield


def run_lock_free(store: str | Path) -> bool:
    """Whether no run holds the run lock now (False when that cannot be told).

    It takes the lock for an instant, without waiting; a run starting in that
    instant waits for it (``RUN_LOCK_GRACE``).
    """
    try:
        if is_postgres_url(store):
            with hold_in_database(str(store), "run", "busy", ""):
                return True
        with hold(run_lock_path(store), "busy", ""):
            return True
    except (LockBusy, StoreReadOnly):
        return False


@contextmanager
def sync_lock(store_path: str | Path) -> Iterator[None]:
    """Hold the store's sync lock (nothing to hold for an in-memory store).

    One per store, not per scope: a store holds one scope (``sync.identity``),
    and two configs of different scopes starting on one new store at once must
    not both claim it; the second is told a sync is running, and its next try
    finds the store claimed.
    """
    if str(store_path) == IN_MEMORY:
        yield
        return
    if is_postgres_url(store_path):
        from jira_pm.store.postgres import shown_url

        with hold_in_database(
                str(store_path), "sync",
                f"another jira-pm sync is running on {shown_url(str(store_path))}; "
                "this one did nothing",
                "let it finish; a killed sync's lock is released by the database"):
            yield
        return
    path = sync_lock_path(store_path)
    with hold(path, f"another jira-pm sync is running on {store_path} "
              f"(lock {path}); this one did nothing",
              "let it finish; if none is running, a hung process holds the lock"):
        yield
