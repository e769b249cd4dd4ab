"""Audit outputs: findings as a table, JSON, CSV or Markdown.

``render(findings, fmt, status=...)`` returns the text; ``status`` maps a
fingerprint to "new" or "open" (the diff with the last run).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from jira_pm.model import Finding, severity_rank
from jira_pm.report.csv_out import render_csv
from jira_pm.report.json_out import render_json
from jira_pm.report.markdown import render_markdown
from jira_pm.report.table import render_table

FORMATS: dict[str, Callable[..., str]] = {
    "table": render_table,
    "json": render_json,
    "csv": render_csv,
    "markdown": render_markdown,
}


def render(
    findings: Sequence[Finding],
    fmt: str = "table",
    *,
    status: Mapping[str, str] | None = None,
    resolved: Sequence[Finding] = (),
    as_of: str | None = None,
) -> str:
    """The findings in format ``fmt`` (one of FORMATS), most severe first."""
    ordered = sorted(findings, key=lambda f: (-severity_rank(f.severity), f.rule_id,
                                              f.project_key or "", f.subject_name))
    return FORMATS[fmt](ordered, status=dict(status or {}), resolved=list(resolved),
                        as_of=as_of)


__all__ = ["FORMATS", "render"]
