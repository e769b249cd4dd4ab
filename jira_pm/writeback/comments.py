"""What jira-pm says in a comment: what was flagged, the key numbers, how to clear it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jira_pm.jira.format import CommentText, marker_text
from jira_pm.model import Finding
from jira_pm.words import plural

# How a Jira user clears a flag, by the label it carries (prefix-free stem).
_ADVICE_BY_LABEL_STEM = {
    "overdue": "To clear it: resolve the issue, move it to a later release or due date, "
    "or release the version.",
    "at-risk": "To clear it: cut scope from the release, add capacity, or move its release date.",
    "scope-creep": "To clear it: agree the added work with the project manager and move what "
    "does not fit out of the sprint, release or epic.",
    "budget-warning": "To clear it: review the remaining work against the budget with the "
    "project manager.",
    "budget-breach": "To clear it: raise the budget in jira-pm's configuration, or cut the "
    "remaining work.",
    "budget-risk": "To clear it: reduce the remaining estimates or raise the budget.",
    "over-estimate": "To clear it: re-estimate the issue (original estimate) if the work "
    "really is bigger, or split it.",
}

MAX_FACTS = 6


def finding_comment(finding: Finding, issue_key: str, exempt_label: str) -> CommentText:
    """The comment for one finding on one issue it labels."""
    extra: list[str] = []
    if finding.subject_type != "issue" or finding.subject_name != issue_key:
        extra.append(f"This issue is part of {finding.subject_type} {finding.subject_name}.")
    advice = _advice(finding.label)
    tail = "jira-pm removes its label by itself when the condition clears"
    if exempt_label:
        tail += f"; add the label {exempt_label} to exempt this issue"
    advice = f"{advice} {tail}." if advice else f"{tail[0].upper()}{tail[1:]}."
    return CommentText(
        headline=f"jira-pm flagged this ({finding.rule_id}, {finding.severity}): {finding.message}",
        facts=evidence_facts(finding.evidence),
        advice=advice,
        marker=marker_text(finding.rule_id, finding.fingerprint),
        extra=tuple(extra),
    )


def resolved_comment(rule_id: str, fingerprint: str, message: str,
                     label: str | None) -> CommentText:
    """The text an ``on-change`` comment is edited to once its finding has cleared."""
    removed = f" and removed the label {label}" if label else ""
    return CommentText(
        headline=f"Resolved ({rule_id}): {message}",
        advice=f"jira-pm no longer flags this{removed}.",
        marker=marker_text(rule_id, fingerprint),
    )


def evidence_facts(evidence: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """The key numbers of a finding as (name, value) pairs: scalars first, lists counted."""
    facts: list[tuple[str, str]] = []
    for key, value in evidence.items():
        text = _fact_value(value)
        if text is not None:
            facts.append((key.replace("_", " "), text))
        if len(facts) == MAX_FACTS:
            break
    return tuple(facts)


def _fact_value(value: Any) -> str | None:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    if isinstance(value, int | str):
        text = str(value)
        return text if len(text) <= 80 else text[:77] + "..."
    if isinstance(value, list | tuple):
        return plural(len(value), "item")
    return None  # nested objects are for `jira-pm audit`, not a comment


def _advice(label: str | None) -> str:
    if not label:
        return ""
    for stem, advice in _ADVICE_BY_LABEL_STEM.items():
        if label.endswith(stem):
            return advice
    return ""
