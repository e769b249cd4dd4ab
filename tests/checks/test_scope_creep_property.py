"""Scope creep classification agrees with a forward simulation of random sprint histories."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from jira_pm.checks.testing import at, change, issue, run_check, site
from jira_pm.model import Sprint

T0 = at("2026-03-02T09:00")
SPRINT = Sprint(id=7, name="S", state="active", start=T0, end=T0 + timedelta(days=14))

# One issue: created some hours around T0, then toggled in/out of sprint 7 at offsets (hours).
ISSUE = st.tuples(
    st.integers(min_value=-100, max_value=100),          # created, hours from T0
    st.booleans(),                                       # in the sprint at creation
    st.lists(st.integers(min_value=1, max_value=50), max_size=6),  # gaps between toggles
)


@settings(max_examples=120, deadline=None)
@given(histories=st.lists(ISSUE, min_size=1, max_size=8))
def test_added_and_removed_match_a_forward_simulation(histories):
    """Baseline, added and removed issues equal what replaying each history forward says."""
    issues, baseline, now_in = [], set(), set()
    for n, (created_h, initially_in, gaps) in enumerate(histories, start=1):
        created = T0 + timedelta(hours=created_h)
        member, moment, changes = initially_in, created, []
        at_t0 = initially_in if created <= T0 else False
        for gap in gaps:
            moment += timedelta(hours=gap)
            before, after = ("7", "") if member else ("", "7")
            changes.append(change(n, moment.isoformat(), "Sprint", before, after))
            member = not member
            if moment <= T0:
                at_t0 = member
        issues.append(issue(n, story_points=1, created=created.isoformat(),
                            sprint_ids=(7,) if member else (), changes=changes))
        if at_t0:
            baseline.add(f"ABC-{n}")
        if member:
            now_in.add(f"ABC-{n}")
    hits = run_check("scope_creep_sprint", site(*issues, sprints=[SPRINT]),
                     T0 + timedelta(days=30), {"threshold": 0.0, "measure": "issues"})
    added = now_in - baseline
    if not baseline or not added:
        assert hits == []
        return
    [hit] = hits
    assert {a["key"] for a in hit.evidence["added"]} == added
    assert {r["key"] for r in hit.evidence["removed"]} == baseline - now_in
    assert hit.evidence["baseline_issues"] == len(baseline)
