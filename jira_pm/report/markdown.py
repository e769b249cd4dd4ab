"""Markdown output: a summary and one table row per finding, for wikis and CI comments."""

from __future__ import annotations

from jira_pm.model import Finding
from jira_pm.report.rows import row, summary


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(findings: list[Finding], *, status, resolved, as_of=None) -> str:
    lines = ["# jira-pm audit", ""]
    if as_of:
        lines += [f"As of {as_of}.", ""]
    lines += [summary(findings, status, resolved) + ".", ""]
    if findings:
        lines += ["| Severity | Rule | Subject | Project | Status | Message |",
                  "|---|---|---|---|---|---|"]
        for finding in findings:
            values = row(finding, status)
            lines.append(
                f"| {values['severity']} | {values['rule_id']} | "
                f"{_cell(values['subject_type'] + ' ' + values['subject'])} | "
                f"{_cell(values['project'])} | {values['status']} | {_cell(values['message'])} |"
            )
        lines.append("")
    return "\n".join(lines)
