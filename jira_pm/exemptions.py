"""Which issues jira-pm leaves alone: one rule for the engine and the write-back planner.

An issue is exempt when it carries the exempt label (``pm-ignore``), when its
issue type is exempt (compared case-insensitively: "incident" in the config
means Jira's "Incident"), or when its project is exempt. The engine produces no
finding on an exempt issue and the planner writes nothing to it, so the two
must agree on every issue.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol


class _Exemptable(Protocol):
    labels: Iterable[str]
    issue_type: str
    project_key: str


def exemption_reason(
    issue: _Exemptable,
    exempt_label: str | None,
    exempt_issue_types: Iterable[str],
    exempt_projects: Iterable[str],
) -> str | None:
    """Why ``issue`` is exempt, in words, or None when it is not."""
    if exempt_label and exempt_label in issue.labels:
        return f"carries the exempt label {exempt_label}"
    if issue.project_key in exempt_projects:
        return f"project {issue.project_key} is exempt"
    # Most sites exempt no issue type: no set to build for each of a million issues.
    if exempt_issue_types and issue.issue_type.lower() in {t.lower() for t in exempt_issue_types}:
        return f"issue type {issue.issue_type} is exempt"
    return None
