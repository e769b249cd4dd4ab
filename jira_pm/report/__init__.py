"""Audit outputs: findings as a table, JSON, CSV or Markdown.

``render(findings, fmt, status=..., lookup=..., width=...)`` returns the text;
``status`` maps a fingerprint to "new" or "open" (the diff with the last run),
``lookup`` turns issue and person ids into keys and names (``lookup_from_store``),
``width`` is the terminal width the table must fit (other formats ignore it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from jira_pm.model import Finding
from jira_pm.report.csv_out import render_csv
from jira_pm.report.json_out import render_json
from jira_pm.report.lookup import Lookup, lookup_from_store
from jira_pm.report.markdown import render_markdown
from jira_pm.report.rows import ordered
from jira_pm.report.table import DEFAULT_WIDTH, render_table

FORMATS: dict[str, Callable[..., str]] = {
    "table": render_table,
    "json": render_json,
    "csv": render_csv,
    "markdown": render_markdown,
}
# Formats that show no issue key and no person: ``lookup_from_store(names=False)`` serves them.
NAMELESS_FORMATS = frozenset({"table"})


def render(
    findings: Sequence[Finding],
    fmt: str = "table",
    *,
    status: Mapping[str, str] | None = None,
    resolved: Sequence[Finding] = (),
    as_of: datetime | str | None = None,
    lookup: Lookup | None = None,
    width: int = DEFAULT_WIDTH,
) -> str:
    """The findings in format ``fmt`` (one of FORMATS): by severity, then project, then key.

    ``as_of`` as a datetime is shown in the lookup's zone; text is shown as given.
    """
    lookup = lookup or Lookup()
    return FORMATS[fmt](ordered(findings), status=dict(status or {}),
                        resolved=list(resolved), as_of=as_of, lookup=lookup, width=width)


__all__ = ["DEFAULT_WIDTH", "FORMATS", "NAMELESS_FORMATS", "Lookup", "lookup_from_store",
           "render"]
