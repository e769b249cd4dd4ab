"""CSV output: one row per finding, the issue keys, and one column per evidence field.

Evidence differs by check, so the columns are the union over the findings
(``evidence.NAME``, sorted); a finding without a field leaves its cell empty.
Lists and items are flattened into readable text, people by name, instants local.
"""

from __future__ import annotations

import csv
import io

from jira_pm.model import Finding
from jira_pm.report.evidence import flat, for_people
from jira_pm.report.rows import COLUMNS, row


def render_csv(findings: list[Finding], *, status, resolved, as_of=None, lookup,
               width=None) -> str:
    evidence = [for_people(f.evidence, lookup) for f in findings]
    fields = sorted({name for item in evidence for name in item})
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*COLUMNS, *(f"evidence.{name}" for name in fields)])
    for finding, facts in zip(findings, evidence, strict=True):
        values = row(finding, status, lookup)
        values["issue_keys"] = " ".join(values["issue_keys"])
        writer.writerow([*(values[c] for c in COLUMNS), *(flat(facts.get(n)) for n in fields)])
    return buffer.getvalue()
