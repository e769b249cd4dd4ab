"""The JQL a sync sends: the configured scope, the incremental date, id-range chains."""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jira_pm.jira.search import strip_order_by

log = logging.getLogger(__name__)

JQL_DATE_FORMAT = "%Y/%m/%d %H:%M"
# The system fields mapping reads; nothing else is requested.
BASE_FIELDS = (
    "summary", "issuetype", "status", "project", "created", "updated", "resolution",
    "resolutiondate", "duedate", "labels", "fixVersions", "parent", "timetracking",
    "timeoriginalestimate", "timeestimate", "timespent", "assignee", "worklog",
    "creator", "reporter",
)
# Sync's issue search also asks for each issue's changelog (Cloud truncates it; see syncer).
ISSUE_EXPAND = ("changelog",)


def issue_fields(field_map: Any) -> list[str]:
    """The fields a sync search asks for: the system ones, then the discovered custom ones."""
    return list(BASE_FIELDS) + [f for f in field_map.ids() if f not in BASE_FIELDS]


def scope_key(settings: Any) -> str:
    """A short stable name for the configured scope (projects + JQL)."""
    text = json.dumps(
        {"projects": sorted(settings.scope.projects), "jql": settings.scope.jql or ""},
        sort_keys=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _quote_key(key: str) -> str:
    return key if key.replace("_", "").isalnum() else '"' + key.replace('"', '\\"') + '"'


def scope_jql(settings: Any) -> str:
    """The JQL of the configured scope, without ORDER BY (the client orders by id)."""
    parts = []
    if settings.scope.projects:
        keys = ", ".join(_quote_key(k) for k in settings.scope.projects)
        parts.append(f"project in ({keys})")
    if settings.scope.jql:
        parts.append(f"({strip_order_by(settings.scope.jql)})")
    return " AND ".join(parts)


def jql_since(instant: datetime, timezone_name: str | None) -> str:
    """``instant`` as a JQL date in the Jira user's zone, floored to the minute."""
    try:
        zone = ZoneInfo(timezone_name) if timezone_name else UTC
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("unknown Jira user time zone %r; writing JQL dates in UTC", timezone_name)
        zone = UTC
    return instant.astimezone(zone).strftime(JQL_DATE_FORMAT)


def page_jql(base: str, since: str | None, after_id: int | None) -> str:
    """The scope, changed since a JQL date, above an id: each part only when given."""
    parts = [f"({base})"] if base else []
    if since:
        parts.append(f'updated >= "{since}"')
    if after_id is not None:
        parts.append(f"id > {after_id}")
    return " AND ".join(parts)


def new_chain(low: int | None = None, high: int | None = None) -> dict[str, Any]:
    """One search chain over ids in [low, high] (None: open); ``after`` = last id saved."""
    return {"low": low, "high": high, "after": None, "done": False}


def chain_jql(base: str, since: str | None, chain: dict[str, Any]) -> str:
    jql = page_jql(base, since, chain.get("after"))
    if chain.get("low") is not None:
        jql += f" AND id >= {int(chain['low'])}"
    if chain.get("high") is not None:
        jql += f" AND id <= {int(chain['high'])}"
    return jql
