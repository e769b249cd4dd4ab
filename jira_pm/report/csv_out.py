"""CSV output: one row per finding with the shared columns and the evidence as JSON."""

from __future__ import annotations

import csv
import io
import json

from jira_pm.model import Finding
from jira_pm.report.rows import COLUMNS, row


def render_csv(findings: list[Finding], *, status, resolved, as_of=None) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*COLUMNS, "evidence"])
    for finding in findings:
        values = row(finding, status)
        writer.writerow([*(values[c] for c in COLUMNS),
                         json.dumps(finding.evidence, sort_keys=True, default=str)])
    return buffer.getvalue()
