"""Audit output formats."""

from __future__ import annotations

import json

from jira_pm.model import Finding
from jira_pm.report import render


def finding(rule="OD002", subject="ABC-1|x", message="late | very", fp="f1"):
    return Finding(rule, "due_date_overdue", "issue", "1", subject, "ABC", "medium", message,
                   {"days": 3}, (1,), "pm-overdue", "once", fp)


def test_empty_table_says_no_findings_and_counts_resolved():
    """With nothing open, the table says so and counts what resolved."""
    text = render([], "table", resolved=[finding()])
    assert text.startswith("No findings.")
    assert "0 finding(s): 0 new, 0 still open, 1 resolved since the last run" in text


def test_markdown_escapes_pipes_in_cells():
    """A | in a subject or message cannot break the Markdown table."""
    text = render([finding()], "markdown", status={"f1": "new"})
    assert "issue ABC-1\\|x" in text and "late \\| very" in text and "| new |" in text


def test_json_carries_evidence_status_and_resolved():
    """JSON holds every finding field, its status, and the resolved fingerprints."""
    data = json.loads(render([finding()], "json", status={"f1": "new"},
                             resolved=[finding(fp="f0")], as_of="2026-04-13T00:00:00+00:00"))
    assert data["as_of"] == "2026-04-13T00:00:00+00:00"
    [item] = data["findings"]
    assert item["status"] == "new" and item["evidence"] == {"days": 3}
    assert item["issue_ids"] == [1] and item["label"] == "pm-overdue"
    assert data["resolved"][0]["fingerprint"] == "f0"


def test_long_subjects_are_trimmed_in_the_table():
    """A very long subject name is shortened so the table stays readable."""
    text = render([finding(subject="X" * 80)], "table")
    assert "X" * 80 not in text and "…" in text


def test_outputs_list_the_most_severe_first():
    """Findings are ordered by severity (highest first), then rule."""
    low = finding(rule="BU004", fp="a")
    high = Finding("OD001", "version_overdue", "version", "5", "2.0", "ABC", "high", "late", {},
                   (), "pm-overdue", "once", "b")
    data = json.loads(render([low, high], "json"))
    assert [f["rule_id"] for f in data["findings"]] == ["OD001", "BU004"]
