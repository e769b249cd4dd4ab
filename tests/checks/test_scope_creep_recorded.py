"""Scope creep on issues recorded from a real Jira Cloud site (jirametrics SP-*)."""

from __future__ import annotations

import json

from conftest import shared_path

from jira_pm.checks.testing import run_check
from jira_pm.mapping import FieldMap, map_issue, sprints_of
from jira_pm.model import Site

FIELDS = FieldMap(story_points="customfield_10036", sprint="customfield_10020")


def recorded_site() -> Site:
    folder = shared_path("jira-recorded", "jirametrics")
    site = Site()
    for path in sorted(folder.glob("issue_SP-*_expand_changelog.json")):
        raw = json.loads(path.read_text(encoding="utf-8"))
        issue = map_issue(raw, FIELDS)
        site.issues[issue.id] = issue
        for sprint in sprints_of(raw, FIELDS):
            site.sprints[sprint.id] = sprint
    return site


def test_recorded_sprint_additions_minutes_before_start_are_baseline():
    """SP-13/14 joined 3 minutes before the sprint started (baseline); SP-15 joined 9 days in."""
    site = recorded_site()
    [hit] = run_check("scope_creep_sprint", site, "2022-04-25T00:00")
    assert hit.subject_name == "Scrum Sprint 3"
    assert hit.evidence["baseline_issues"] == 2
    assert hit.evidence["baseline_amount"] == 27.0  # 13 + 14, points read from display strings
    assert [(a["key"], a["added_at"][:16], a["added_by"]) for a in hit.evidence["added"]] == [
        ("SP-15", "2022-04-24T17:26", "Mike Bowler")]
    assert hit.issue_ids == tuple(i.id for i in site.issues.values() if i.key == "SP-15")


def test_as_of_before_the_addition_replays_it_away():
    """With --as-of before SP-15 joined, the sprint had not grown yet."""
    assert run_check("scope_creep_sprint", recorded_site(), "2022-04-20T00:00") == []
