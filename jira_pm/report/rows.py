"""One flat row per finding, the order of findings and the summaries every format shares."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from jira_pm.model import Finding, severity_rank
from jira_pm.report.lookup import Lookup
from jira_pm.words import plural

COLUMNS = ("severity", "rule_id", "subject_type", "subject", "project", "status", "label",
           "issues", "issue_keys", "message", "fingerprint")


_DIGITS = re.compile(r"(\d+)")


def _natural(text: str) -> tuple:
    """SHOP-2 before SHOP-10, as Jira lists keys: digit runs compare as numbers."""
    return tuple([(0, int(part), "") if part.isdigit() else (1, 0, part)
                  for part in _DIGITS.split(text) if part])


def ordered(findings: Iterable[Finding]) -> list[Finding]:
    """Most severe first, then by project, then by subject key (or name), then rule."""
    return sorted(findings, key=lambda f: (-severity_rank(f.severity), f.project_key or "",
                                           _natural(f.subject_name), f.rule_id))


def row(finding: Finding, status: dict[str, str], lookup: Lookup, *,
        keys: bool = True) -> dict[str, Any]:
    """The finding's flat row; ``keys=False`` leaves out issue_keys (the table shows a count)."""
    values = {
        "severity": finding.severity,
        "rule_id": finding.rule_id,
        "subject_type": finding.subject_type,
        "subject": finding.subject_name,
        "project": finding.project_key or "",
        "status": status.get(finding.fingerprint, "open"),
        "label": finding.label or "",
        "issues": len(finding.issue_ids),
    }
    if keys:
        values["issue_keys"] = lookup.keys(finding.issue_ids)
    values["message"] = finding.message
    values["fingerprint"] = finding.fingerprint
    return values


def summary(findings: list[Finding], status: dict[str, str], resolved: list[Finding]) -> str:
    new = sum(1 for f in findings if status.get(f.fingerprint) == "new")
    return (f"{plural(len(findings), 'finding')}: {new:,} new, {len(findings) - new:,} still "
            f"open, {len(resolved):,} resolved since the last run")


def rule_summaries(findings: list[Finding], status: dict[str, str]) -> list[str]:
    """One line per rule that found something: its findings, how many are new, its issues."""
    by_rule: dict[str, list[Finding]] = {}
    for finding in findings:
        by_rule.setdefault(finding.rule_id, []).append(finding)
    lines = []
    for rule_id in sorted(by_rule, key=lambda r: (-max(severity_rank(f.severity)
                                                        for f in by_rule[r]), r)):
        those = by_rule[rule_id]
        new = sum(1 for f in those if status.get(f.fingerprint) == "new")
        issues = len({i for f in those for i in f.issue_ids})
        label = those[0].label
        lines.append(f"{rule_id} {those[0].check}: {plural(len(those), 'finding')} "
                     f"({new:,} new), {plural(issues, 'issue')}"
                     + (f" to label {label}" if label and issues else ""))
    return lines
