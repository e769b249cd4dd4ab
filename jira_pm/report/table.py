"""The terminal table: one line per finding, widest columns trimmed to fit."""

from __future__ import annotations

from jira_pm.model import Finding
from jira_pm.report.rows import row, summary

HEADERS = (("severity", "SEVERITY"), ("rule_id", "RULE"), ("subject", "SUBJECT"),
           ("project", "PROJECT"), ("status", "STATUS"), ("issues", "ISSUES"),
           ("message", "MESSAGE"))
MAX_SUBJECT = 30


def render_table(findings: list[Finding], *, status, resolved, as_of=None) -> str:
    if not findings:
        lines = ["No findings."]
    else:
        rows = []
        for finding in findings:
            values = row(finding, status)
            subject = f"{values['subject_type']} {values['subject']}"
            if len(subject) > MAX_SUBJECT:
                subject = subject[: MAX_SUBJECT - 1] + "…"
            values["subject"] = subject
            rows.append([str(values[key]) for key, _ in HEADERS])
        titles = [title for _, title in HEADERS]
        widths = [max(len(titles[i]), *(len(r[i]) for r in rows)) for i in range(len(titles))]
        lines = ["  ".join(t.ljust(w) for t, w in zip(titles, widths, strict=True)).rstrip()]
        for r in rows:
            lines.append("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())
    lines.append("")
    lines.append(summary(findings, status, resolved) + (f" (as of {as_of})" if as_of else ""))
    return "\n".join(lines) + "\n"
