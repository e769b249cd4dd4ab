"""Markdown output: a table row per finding with a link per issue, then one line per rule.

For wikis and CI comments: a renderer lays out the table, so rows are not
wrapped to a terminal's width.
"""

from __future__ import annotations

from jira_pm.model import Finding
from jira_pm.report.lookup import Lookup
from jira_pm.report.rows import row, rule_summaries, summary


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _issue(key: str, lookup: Lookup) -> str:
    url = lookup.link(key)
    return f"[{_cell(key)}]({url})" if url and key[:1] != "(" else _cell(key)


def _subject(finding: Finding, lookup: Lookup) -> str:
    name = finding.subject_name
    if finding.subject_type in ("issue", "epic"):
        return f"{finding.subject_type} {_issue(name, lookup)}"
    return _cell(f"{finding.subject_type} {name}")


def render_markdown(findings: list[Finding], *, status, resolved, as_of=None, lookup,
                    width=None) -> str:
    lines = ["# jira-pm audit", ""]
    if as_of:
        when = as_of if isinstance(as_of, str) else lookup.moment(as_of)
        lines += [f"As of {when}.", ""]
    lines += [summary(findings, status, resolved) + ".", ""]
    if findings:
        lines += ["| Severity | Rule | Subject | Project | Status | Message | Issues |",
                  "|---|---|---|---|---|---|---|"]
        for finding in findings:
            values = row(finding, status, lookup)
            issues = ", ".join(_issue(key, lookup) for key in values["issue_keys"])
            lines.append(
                f"| {values['severity']} | {values['rule_id']} | {_subject(finding, lookup)} | "
                f"{_cell(values['project'])} | {values['status']} | {_cell(values['message'])} "
                f"| {issues} |"
            )
        lines += ["", "## By rule", ""]
        lines += [f"- {_cell(text)}" for text in rule_summaries(findings, status)]
        lines.append("")
    return "\n".join(lines)
