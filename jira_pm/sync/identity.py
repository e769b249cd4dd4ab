"""Which Jira site and which scope a store belongs to: recorded in ``meta``, checked after.

Jira ids are only unique within one site, so a store synced from one site and
then pointed at another would merge two sites' issues under colliding ids, and
``apply`` would comment on the other site's unrelated issue with the same id.
The store records the site's base URL (``site_url``) the first time a sync
reaches it; every later sync, and every client made for the store
(``cli.common.make_client``: apply, run), compares and refuses a mismatch.

A store also holds one scope (``[scope] projects`` and ``jql``): a sync removes
the stored issues its scope no longer returns, so a second config of another
scope on the same store would remove the first one's issues, and its findings
and labels would be computed over them. The scope a sync last claimed the store
for is kept as ``scope``; another scope is refused while the store holds issues,
except a widened project list with the same JQL (every stored issue stays in
scope). ``jira-pm sync --new-scope`` moves the store to a changed scope.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jira_pm.errors import ConfigError
from jira_pm.store.postgres import is_postgres_url
from jira_pm.store.sync_state import get_meta, set_meta

META_KEY = "site_url"
SCOPE_KEY = "scope"
# Set when a sync moves the store to another scope, cleared by the next reconcile:
# until then the old scope's issues may still be stored (a move that was killed).
SCOPE_MOVED = "scope_moved"
_DEFAULT_PORTS = {"https": 443, "http": 80}


def site_identity(url: str) -> str:
    """``url`` normalised: scheme, lower-case host, port, path; no user info or trailing slash.

    The default port of the scheme is dropped, so ``https://x`` and ``https://x:443``
    are one site; the path (a Data Center context path) keeps its case.
    """
    parts = urlsplit(url.strip())
    scheme = (parts.scheme or "https").lower()
    host = (parts.hostname or "").lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if port is None or port == _DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    path = parts.path.rstrip("/")
    return f"{scheme}://{netloc}{path}"


def recorded_site(conn: sqlite3.Connection) -> str | None:
    """The site the store belongs to, or None when no sync has recorded one yet."""
    value = get_meta(conn, META_KEY)
    return str(value) if value else None


def check_site(conn: sqlite3.Connection, url: str, store_path: Path | str | None) -> None:
    """Raise ConfigError when the store belongs to another site than ``url``."""
    recorded = recorded_site(conn)
    configured = site_identity(url)
    if recorded is not None and recorded != configured:
        raise ConfigError(
            f"the store {store_path or '(in memory)'} belongs to {recorded}, not {configured}",
            hint=f"point {_another_store(store_path)} to sync this site",
        )


def _another_store(store_path: Path | str | None) -> str:
    """What to point elsewhere for a store of its own: a SQLite file, a PostgreSQL schema."""
    if is_postgres_url(store_path):
        return "[store] url (or $JIRA_PM_STORE_URL) at another database or schema"
    return "[store] path at another file"


def record_site(conn: sqlite3.Connection, url: str) -> None:
    """Record ``url`` as the store's site, unless one is recorded already."""
    if recorded_site(conn) is None:
        set_meta(conn, META_KEY, site_identity(url))


def scope_identity(settings: Any) -> dict[str, Any]:
    """The configured scope as stored: the sorted project keys and the JQL ("" for none)."""
    return {"projects": sorted(settings.scope.projects), "jql": settings.scope.jql or ""}


def describe_scope(scope: dict[str, Any]) -> str:
    """A scope for people: ``projects ABC, DEF``, ``JQL "…"``, or both."""
    parts = []
    if scope.get("projects"):
        parts.append("projects " + ", ".join(scope["projects"]))
    if scope.get("jql"):
        parts.append(f'JQL "{scope["jql"]}"')
    return " and ".join(parts) or "no scope"


def _recorded(conn: sqlite3.Connection) -> dict[str, Any] | None:
    """The scope the store holds, its project keys upper-cased as the config's are now."""
    recorded = get_meta(conn, SCOPE_KEY)
    if not recorded:
        return None
    return {"projects": sorted(key.upper() for key in recorded.get("projects") or ()),
            "jql": recorded.get("jql") or ""}


def scope_accepted(recorded: dict[str, Any] | None, configured: dict[str, Any]) -> bool:
    """Whether a store holding ``recorded`` may sync ``configured``: the same, or more projects.

    More projects with the same JQL keep every stored issue in scope.
    """
    if not recorded or recorded == configured:
        return True
    return (recorded.get("jql", "") == configured["jql"] and bool(recorded.get("projects"))
            and set(recorded["projects"]) <= set(configured["projects"]))


def check_scope(conn: sqlite3.Connection, settings: Any, store_name: str) -> None:
    """Raise ConfigError when the store holds the issues of another scope than ``settings``'."""
    recorded = _recorded(conn)
    configured = scope_identity(settings)
    if scope_accepted(recorded, configured):
        return
    if conn.execute("SELECT 1 FROM issues LIMIT 1").fetchone() is None:
        return  # nothing stored to lose: a first sync that found nothing (a typo) claims nothing
    raise ConfigError(
        f"the store {store_name} holds the issues of {describe_scope(recorded)}, not this "
        f"config's {describe_scope(configured)}",
        hint="a store holds one scope: give this config its own [store] path (or schema); "
             "if you changed the scope, run `jira-pm sync --new-scope` once to move the store "
             "to it (issues outside it are removed)",
    )


def scope_changes(conn: sqlite3.Connection, settings: Any, scope_key: str) -> bool:
    """Whether this sync moves the store to another scope: then it must be a full sync.

    A store from before scopes were recorded changes scope when it holds another
    scope's sync state: that scope's reconcile may have removed this one's issues
    while this one's cursor stayed, so only a full sync can be trusted.
    """
    recorded = _recorded(conn)
    if recorded is not None:
        return recorded != scope_identity(settings)
    return conn.execute("SELECT 1 FROM sync_state WHERE scope <> ? LIMIT 1",
                        (scope_key,)).fetchone() is not None


def record_scope(conn: sqlite3.Connection, settings: Any, scope_key: str, *,
                 moved: bool) -> None:
    """Claim the store for ``settings``' scope; a change drops the other scopes' sync state.

    Their cursors would otherwise make a later sync of an old scope incremental,
    missing the issues this scope's sync removed. ``moved`` (``scope_changes``)
    also leaves a reconcile due until one completes (``SCOPE_MOVED``).
    """
    configured = scope_identity(settings)
    if _recorded(conn) == configured and not moved:
        return
    set_meta(conn, SCOPE_KEY, configured)
    conn.execute("DELETE FROM sync_state WHERE scope <> ?", (scope_key,))
    if moved:
        set_meta(conn, SCOPE_MOVED, describe_scope(configured))
