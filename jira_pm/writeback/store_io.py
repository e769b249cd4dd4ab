"""What write-back reads from and writes to the store besides the ledger."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable

from jira_pm.store import ledger
from jira_pm.store.schema import transaction
from jira_pm.writeback.comments import Lookups
from jira_pm.writeback.plan import IssueState, ResolvedFinding


def issue_states(conn: sqlite3.Connection) -> dict[int, IssueState]:
    """Every stored issue's identity and labels, as last synced (or last written)."""
    rows = conn.execute("SELECT id, key, project_key, issue_type, labels FROM issues").fetchall()
    return {
        int(row["id"]): IssueState(int(row["id"]), row["key"], row["project_key"],
                                   row["issue_type"], tuple(json.loads(row["labels"] or "[]")))
        for row in rows
    }


def comment_lookups(conn: sqlite3.Connection, settings, issues: dict[int, IssueState]) -> Lookups:
    """What comments need to name things: issue keys, worklog authors' names, zone, site URL."""
    from zoneinfo import ZoneInfo

    names = {
        row[0]: row[1]
        for row in conn.execute("SELECT DISTINCT author_id, author_name FROM worklogs"
                                " WHERE author_id IS NOT NULL AND author_name IS NOT NULL")
    }
    return Lookups(keys={i: s.key for i, s in issues.items()}, names=names,
                   zone=ZoneInfo(settings.calendar.timezone), site_url=settings.jira.url)


def owned_labels(conn: sqlite3.Connection, pack_labels: Iterable[str]) -> frozenset[str]:
    """The labels jira-pm owns: those the rule pack can produce and those the ledger shows it wrote.

    A label of a rule since removed from the pack stays owned through the
    ledger, so it is still cleaned up; no other label is ever owned.
    """
    return frozenset(pack_labels) | ledger.written_labels(conn)


def issues_in_scope(conn: sqlite3.Connection, projects: Iterable[str]) -> dict[int, IssueState]:
    """The stored issues of the configured projects (all of them when none is configured).

    The store may still hold issues of a project since dropped from the scope:
    nothing outside the configured scope is ever written.
    """
    issues = issue_states(conn)
    in_scope = set(projects)
    if in_scope:
        issues = {i: s for i, s in issues.items() if s.project_key in in_scope}
    return issues


def update_labels(conn: sqlite3.Connection, issue_id: int, add: Iterable[str],
                  remove: Iterable[str]) -> None:
    """Apply a successful label write to the stored issue: the next plan is right before a sync."""
    with transaction(conn):
        row = conn.execute("SELECT labels FROM issues WHERE id = ?", (issue_id,)).fetchone()
        if row is None:
            return
        removed = set(remove)
        labels = [x for x in json.loads(row["labels"] or "[]") if x not in removed]
        labels += [x for x in add if x not in labels]
        conn.execute("UPDATE issues SET labels = ? WHERE id = ?",
                     (json.dumps(labels, separators=(",", ":")), issue_id))


def resolved_findings(conn: sqlite3.Connection,
                      fingerprints: Iterable[str]) -> list[ResolvedFinding]:
    """The resolved findings among ``fingerprints`` (those jira-pm has commented on)."""
    wanted = sorted(set(fingerprints))
    found: list[ResolvedFinding] = []
    for start in range(0, len(wanted), 500):  # stay under SQLite's variable limit
        chunk = wanted[start:start + 500]
        marks = ",".join("?" * len(chunk))
        rows = conn.execute(
            "SELECT rule_id, fingerprint, message, label, comment_policy FROM findings"
            f" WHERE resolved_at IS NOT NULL AND fingerprint IN ({marks})", chunk
        ).fetchall()
        found += [ResolvedFinding(r["rule_id"], r["fingerprint"], r["message"], r["label"],
                                  r["comment_policy"]) for r in rows]
    return found
