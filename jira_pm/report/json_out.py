"""JSON output: every field of every finding, for scripts and CI.

Ids stay (scripts may join on them) and keys and names stand beside them:
``issue_ids`` and ``issue_keys``, evidence ``by_person`` and ``by_person_names``.
Instants are ISO 8601 in the calendar's zone, to the second.
"""

from __future__ import annotations

import json

from jira_pm.model import Finding
from jira_pm.report.evidence import for_programs
from jira_pm.report.rows import row


def render_json(findings: list[Finding], *, status, resolved, as_of=None, lookup,
                width=None) -> str:
    document = {
        "as_of": as_of if isinstance(as_of, str) or as_of is None else lookup.iso(as_of),
        "findings": [
            {
                **row(finding, status, lookup),
                "check": finding.check,
                "subject_id": finding.subject_id,
                "issue_ids": list(finding.issue_ids),
                "comment_policy": finding.comment_policy,
                "evidence": for_programs(finding.evidence, lookup),
            }
            for finding in findings
        ],
        "resolved": [
            {"fingerprint": f.fingerprint, "rule_id": f.rule_id, "subject_type": f.subject_type,
             "subject": f.subject_name}
            for f in resolved
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n"
