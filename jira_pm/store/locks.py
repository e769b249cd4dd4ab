"""File locks beside the store: one holder at a time, and a clear word for the one that waits.

Two locks exist. The run lock (``<store>.lock``) is held by ``run``, ``apply``
and ``clean``: one write-back at a time. The sync lock
(``<store>.sync-<scope>.lock``) is held by every sync of one scope, whether
``jira-pm sync`` or the sync inside ``run``: two syncs of the same scope would
interleave their checkpoints. Neither waits: the second process is told at
once (``LockBusy``) and decides what that means (cron's ``run`` exits 0).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from jira_pm.errors import LockBusy, StoreReadOnly

IN_MEMORY = ":memory:"


def run_lock_path(store_path: str | Path) -> Path:
    """The run lock of a store: beside it, so two configs on one store share it."""
    return Path(f"{store_path}.lock")


def sync_lock_path(store_path: str | Path, scope: str) -> Path:
    """The sync lock of one scope of a store (scopes of one store sync independently)."""
    return Path(f"{store_path}.sync-{scope}.lock")


@contextmanager
def hold(path: Path, busy: str, hint: str) -> Iterator[None]:
    """Hold the lock file ``path``; LockBusy(busy, hint) at once when another process holds it."""
    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=0)
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
def sync_lock(store_path: str | Path, scope: str) -> Iterator[None]:
    """Hold the sync lock of ``scope`` (nothing to hold for an in-memory store)."""
    if str(store_path) == IN_MEMORY:
        yield
        return
    path = sync_lock_path(store_path, scope)
    with hold(path, f"another jira-pm sync of this scope is running on {store_path} "
              f"(lock {path}); this one did nothing",
              "let it finish; if none is running, a hung process holds the lock"):
        yield
