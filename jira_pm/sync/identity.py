"""Which Jira site a store belongs to: recorded in ``meta`` at the first sync, checked after.

Jira ids are only unique within one site, so a store synced from one site and
then pointed at another would merge two sites' issues under colliding ids, and
``apply`` would comment on the other site's unrelated issue with the same id.
The store records the site's base URL (``site_url``) the first time a sync
reaches it; every later sync, and every client made for the store
(``cli.common.make_client``: apply, run), compares and refuses a mismatch.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import urlsplit

from jira_pm.errors import ConfigError
from jira_pm.store.postgres import is_postgres_url
from jira_pm.store.sync_state import get_meta, set_meta

META_KEY = "site_url"
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
