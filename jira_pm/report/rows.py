"""One flat row per finding: the columns every output format shares."""

from __future__ import annotations

from typing import Any

from jira_pm.model import Finding

COLUMNS = ("severity", "rule_id", "subject_type", "subject", "project", "status", "label",
           "issues", "message", "fingerprint")


def row(finding: Finding, status: dict[str, str]) -> dict[str, Any]:
    return {
        "severity": finding.severity,
        "rule_id": finding.rule_id,
        "subject_type": finding.subject_type,
        "subject": finding.subject_name,
        "project": finding.project_key or "",
        "status": status.get(finding.fingerprint, "open"),
        "label": finding.label or "",
        "issues": len(finding.issue_ids),
        "message": finding.message,
        "fingerprint": finding.fingerprint,
    }


def summary(findings: list[Finding], status: dict[str, str], resolved: list[Finding]) -> str:
    new = sum(1 for f in findings if status.get(f.fingerprint) == "new")
    return (f"{len(findings)} finding(s): {new} new, {len(findings) - new} still open, "
            f"{len(resolved)} resolved since the last run")
