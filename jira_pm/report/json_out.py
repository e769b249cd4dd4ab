"""JSON output: every field of every finding, evidence included, for scripts and CI."""

from __future__ import annotations

import json

from jira_pm.model import Finding
from jira_pm.report.rows import row


def render_json(findings: list[Finding], *, status, resolved, as_of=None) -> str:
    document = {
        "as_of": as_of,
        "findings": [
            {
                **row(finding, status),
                "check": finding.check,
                "subject_id": finding.subject_id,
                "issue_ids": list(finding.issue_ids),
                "comment_policy": finding.comment_policy,
                "evidence": finding.evidence,
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
