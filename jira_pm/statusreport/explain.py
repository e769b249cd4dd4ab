"""`jira-pm explain KEY`: why one issue is flagged, in words, and what jira-pm wrote on it."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from jira_pm.calendar import calendar_from_settings
from jira_pm.errors import UsageError
from jira_pm.model import Finding, Issue
from jira_pm.statusreport.lookups import site_lookups
from jira_pm.store.findings import finding_times
from jira_pm.store.ledger import entries
from jira_pm.words import day_text, moment_text, plural
from jira_pm.writeback.comments import finding_sentences


def touches(finding: Finding, issue: Issue) -> bool:
    """The finding is about the issue, or labels it."""
    if finding.subject_type in ("issue", "epic") and finding.subject_id == str(issue.id):
        return True
    return issue.id in finding.issue_ids


def explain_lines(conn: sqlite3.Connection, settings: Any, key: str,
                  as_of: datetime) -> list[str]:
    """The explanation of issue ``key`` as printed lines."""
    from jira_pm.engine import evaluate
    from jira_pm.rulepack import load_pack
    from jira_pm.store.site import load_site

    site = load_site(conn)
    issue = site.issue_by_key(key) or site.issue_by_key(key.upper())
    if issue is None:
        raise UsageError(f"no issue {key} in the store at {settings.store_name}",
                         hint="check the key; `jira-pm sync` fetches issues in [scope]")
    calendar = calendar_from_settings(settings, years=range(as_of.year - 3, as_of.year + 3))
    zone = calendar.zone
    lookups = site_lookups(site, settings, zone)
    findings = [f for f in evaluate(site, load_pack(settings), settings, as_of,
                                    calendar=calendar) if touches(f, issue)]
    lines = [f"{issue.key} {issue.summary!r} ({issue.issue_type}, {issue.status}) "
             f"as of {moment_text(as_of, zone)}", ""]
    if not findings:
        lines.append("No open finding touches it.")
    else:
        lines.append(f"{plural(len(findings), 'open finding')}:")
    for finding in findings:
        lines.append(f"  {finding.rule_id} ({finding.severity}) {finding.message}")
        times = finding_times(conn, finding.fingerprint)
        if times and times["resolved_at"] is None:
            seen = datetime.fromisoformat(times["first_seen"])
            age = max((calendar.local_date(as_of) - calendar.local_date(seen)).days, 0)
            lines.append(f"    first seen {moment_text(seen, zone)} ({plural(age, 'day')} ago)")
        else:
            lines.append("    new: not recorded by a run yet")
        # What the finding's Jira comment on this issue says, sentence by sentence.
        for sentence in finding_sentences(finding, lookups, issue.key,
                                          settings.writeback.exempt_label):
            lines.append(f"    {sentence}")
    lines.append("")
    written = [e for e in entries(conn) if e.issue_id == issue.id]
    if not written:
        lines.append("jira-pm has written no label or comment on it.")
    else:
        lines.append("Written by jira-pm (from the ledger):")
    for entry in written:
        when = moment_text(datetime.fromisoformat(entry.at), zone)
        what = entry.label if entry.operation == "labels" else entry.operation.replace("-", " ")
        if entry.comment_id and entry.operation != "labels":
            what += f" {entry.comment_id}"
        lines.append(f"  {when}  {what}  {entry.rule_id or ''}  {entry.status}".rstrip())
    if issue.due_date:
        lines.append("")
        lines.append(f"Due {day_text(issue.due_date)}.")
    return lines
