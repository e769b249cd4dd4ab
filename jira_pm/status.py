"""`jira-pm status`: what the store knows, as one JSON-ready document (see docs/status.md).

Read-only: every function here only reads the store it is given.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from jira_pm.store import ledger
from jira_pm.store.issues import count_issues_by_project, get_meta, get_sync_state
from jira_pm.store.schema import FULL_SYNC_DUE
from jira_pm.store.sync_state import LAST_SYNC
from jira_pm.sync.identity import SCOPE_KEY
from jira_pm.writeback.log_view import run_json, stuck_json

# The JSON document's shape; raised only when a field changes meaning or goes away.
STATUS_JSON_VERSION = 1


def empty_status(settings: Any) -> dict[str, Any]:
    """The document where there is no store yet."""
    return {
        "version": STATUS_JSON_VERSION, "store": settings.store_name, "store_exists": False,
        "site": settings.jira.url, "deployment": None, "scope": None, "last_sync": None,
        "sync_cursor": None,
        "last_full_sync": None, "last_reconcile": None, "interrupted_sync": None,
        "full_sync_pending": True, "full_sync_reason": "never synced",
        "issues": {"total": 0, "by_project": {}}, "versions": 0, "sprints": 0,
        "last_run": None, "findings": {"open": 0, "by_severity": {}, "by_rule": {}},
        "stuck_writes": [],
    }


def status_document(conn: sqlite3.Connection, settings: Any) -> dict[str, Any]:
    """Last sync, whether a full sync is due, counts, last run, open findings, stuck writes."""
    from jira_pm.sync import scope_key

    state = get_sync_state(conn, scope_key(settings))
    counts = count_issues_by_project(conn)
    last = ledger.last_run(conn)
    document = empty_status(settings)
    document.update({
        "store_exists": True,
        "deployment": get_meta(conn, "deployment"),
        "scope": get_meta(conn, SCOPE_KEY),
        "last_sync": get_meta(conn, LAST_SYNC),
        "sync_cursor": _iso(state.cursor),
        "last_full_sync": _iso(state.last_full),
        "last_reconcile": _iso(state.last_reconcile),
        "interrupted_sync": resume_point(state.checkpoint) if state.checkpoint else None,
        "issues": {"total": sum(counts.values()), "by_project": counts},
        "versions": conn.execute("SELECT COUNT(*) FROM versions").fetchone()[0],
        "sprints": conn.execute("SELECT COUNT(*) FROM sprints").fetchone()[0],
        "last_run": run_json(last) if last else None,
        "findings": _open_findings(conn),
        "stuck_writes": [stuck_json(r) for r in ledger.loop_records(conn, stuck_only=True)],
    })
    reason = _full_sync_reason(conn, state)
    document["full_sync_pending"] = reason is not None
    document["full_sync_reason"] = reason
    return document


def _iso(value: Any) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def _full_sync_reason(conn: sqlite3.Connection, state: Any) -> str | None:
    """Why the next sync is a full one, or None when it is incremental."""
    due = get_meta(conn, FULL_SYNC_DUE)
    if due:
        return str(due)
    if state.checkpoint and (state.checkpoint.get("mode") or "full") == "full":
        return "an interrupted full sync resumes"
    if state.cursor is None:
        return "never synced"
    return None


def _open_findings(conn: sqlite3.Connection) -> dict[str, Any]:
    rows = conn.execute("SELECT severity, rule_id, COUNT(*) AS n FROM findings"
                        " WHERE resolved_at IS NULL GROUP BY severity, rule_id").fetchall()
    by_severity: dict[str, int] = {}
    by_rule: dict[str, int] = {}
    for row in rows:
        by_severity[row["severity"]] = by_severity.get(row["severity"], 0) + row["n"]
        by_rule[row["rule_id"]] = by_rule.get(row["rule_id"], 0) + row["n"]
    from jira_pm.model import severity_rank

    return {"open": sum(by_rule.values()),
            "by_severity": dict(sorted(by_severity.items(), key=lambda x: -severity_rank(x[0]))),
            "by_rule": dict(sorted(by_rule.items()))}


def resume_point(checkpoint: dict[str, Any]) -> str:
    """Where the next `jira-pm sync` resumes, from a checkpoint's id-range chains."""
    mode = checkpoint.get("mode") or "full"
    started = checkpoint.get("started")
    what = f"{mode} sync" + (f" started {started}" if started else "")
    chains = checkpoint.get("chains") or []
    open_chains = [c for c in chains if not c.get("done")]
    if not open_chains:
        return f"{what}; resumes with its last steps (all issue pages are saved)"
    points = []
    for chain in open_chains:
        after = chain.get("after")
        if after is not None:
            points.append(f"after issue id {after}")
        elif chain.get("low") is not None:
            points.append(f"from issue id {chain['low']}")
        else:
            points.append("from the start")
    if len(chains) == 1:
        return f"{what}; resumes {points[0]}"
    return (f"{what}; {len(open_chains)} of {len(chains)} id ranges left, resuming "
            + ", ".join(points))
