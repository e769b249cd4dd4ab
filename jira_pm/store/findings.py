"""Findings in the store: recorded per run and diffed by fingerprint.

A finding's row lives as long as its fingerprint: ``first_seen`` is when it
(last) appeared, ``last_seen`` the latest run that still reported it, and
``resolved_at`` the run that no longer did (NULL while open). A resolved
finding that comes back is open again, with a new ``first_seen``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from jira_pm.model import Finding
from jira_pm.store.schema import transaction


@dataclass
class FindingsDiff:
    """How this run's findings compare with the open ones of the last run."""

    new: list[Finding] = field(default_factory=list)
    still_open: list[Finding] = field(default_factory=list)
    resolved: list[Finding] = field(default_factory=list)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _row_to_finding(row: sqlite3.Row) -> Finding:
    return Finding(
        rule_id=row["rule_id"],
        check=row["check_name"],
        subject_type=row["subject_type"],
        subject_id=row["subject_id"],
        subject_name=row["subject_name"],
        project_key=row["project_key"],
        severity=row["severity"],
        message=row["message"],
        evidence=json.loads(row["evidence"]),
        issue_ids=tuple(json.loads(row["issue_ids"])),
        label=row["label"],
        comment_policy=row["comment_policy"],
        fingerprint=row["fingerprint"],
    )


def open_findings(conn: sqlite3.Connection, only: Collection[str] | None = None
                  ) -> list[Finding]:
    """Findings of the last recorded run that are still open, by rule and subject.

    With ``only``, just those with these fingerprints (the others are not decoded).
    """
    rows = conn.execute(
        "SELECT * FROM findings WHERE resolved_at IS NULL "
        "ORDER BY rule_id, project_key, subject_type, subject_name, subject_id"
    )
    return [_row_to_finding(row) for row in rows
            if only is None or row["fingerprint"] in only]


def finding_times(conn: sqlite3.Connection, fingerprint: str) -> dict[str, str | None] | None:
    """first_seen / last_seen / resolved_at of one fingerprint, or None if never seen."""
    row = conn.execute(
        "SELECT first_seen, last_seen, resolved_at FROM findings WHERE fingerprint = ?",
        (fingerprint,),
    ).fetchone()
    return None if row is None else dict(zip(("first_seen", "last_seen", "resolved_at"), row,
                                              strict=True))


def diff_findings(conn: sqlite3.Connection, findings: Iterable[Finding]) -> FindingsDiff:
    """The diff ``record_findings`` would produce, without writing anything.

    Only the findings it resolves are read back whole: at a million issues the
    open ones are some 270,000, and decoding their evidence would double the
    audit's peak memory.
    """
    findings = list(findings)
    previous = {row[0] for row in conn.execute(
        "SELECT fingerprint FROM findings WHERE resolved_at IS NULL")}
    current = {f.fingerprint for f in findings}
    gone = previous - current
    return FindingsDiff(
        new=[f for f in findings if f.fingerprint not in previous],
        still_open=[f for f in findings if f.fingerprint in previous],
        resolved=open_findings(conn, only=gone) if gone else [],
    )


def record_findings(
    conn: sqlite3.Connection, findings: Iterable[Finding], as_of: datetime
) -> FindingsDiff:
    """Store this run's findings in one transaction and return the diff with the last run."""
    findings = list(findings)
    at = _iso(as_of)
    if not conn.in_transaction:
        # Take the write lock before reading the diff: a deferred read-then-write
        # fails at once ("database is locked") when `run` writes meanwhile.
        with transaction(conn):
            return record_findings(conn, findings, as_of)
    conn.execute("SAVEPOINT record_findings")
    try:
        diff = diff_findings(conn, findings)
        new = {f.fingerprint for f in diff.new}
        for finding in findings:
            values = (
                finding.rule_id, finding.check, finding.subject_type, finding.subject_id,
                finding.subject_name, finding.project_key, finding.severity, finding.message,
                json.dumps(finding.evidence, sort_keys=True, separators=(",", ":"), default=str),
                json.dumps(list(finding.issue_ids)), finding.label, finding.comment_policy,
            )
            if finding.fingerprint in new:
                conn.execute(
                    "INSERT INTO findings (rule_id, check_name, subject_type, subject_id, "
                    "subject_name, project_key, severity, message, evidence, issue_ids, label, "
                    "comment_policy, fingerprint, first_seen, last_seen, resolved_at) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,NULL) "
                    "ON CONFLICT(fingerprint) DO UPDATE SET rule_id=excluded.rule_id, "
                    "check_name=excluded.check_name, subject_type=excluded.subject_type, "
                    "subject_id=excluded.subject_id, subject_name=excluded.subject_name, "
                    "project_key=excluded.project_key, severity=excluded.severity, "
                    "message=excluded.message, evidence=excluded.evidence, "
                    "issue_ids=excluded.issue_ids, label=excluded.label, "
                    "comment_policy=excluded.comment_policy, first_seen=excluded.first_seen, "
                    "last_seen=excluded.last_seen, resolved_at=NULL",
                    (*values, finding.fingerprint, at, at),
                )
            else:
                conn.execute(
                    "UPDATE findings SET rule_id=?, check_name=?, subject_type=?, subject_id=?, "
                    "subject_name=?, project_key=?, severity=?, message=?, evidence=?, "
                    "issue_ids=?, label=?, comment_policy=?, last_seen=? WHERE fingerprint=?",
                    (*values, at, finding.fingerprint),
                )
        for finding in diff.resolved:
            conn.execute(
                "UPDATE findings SET resolved_at = ? WHERE fingerprint = ?",
                (at, finding.fingerprint),
            )
        conn.execute("RELEASE record_findings")
    except BaseException:
        conn.execute("ROLLBACK TO record_findings")
        conn.execute("RELEASE record_findings")
        raise
    return diff
