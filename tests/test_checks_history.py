"""Changelog replay: rebuilding past values backwards agrees with replaying forwards."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from jira_pm.checks import history
from jira_pm.checks.testing import at, change, issue

T0 = at("2026-01-01T00:00")
SPRINTS = st.frozensets(st.integers(min_value=1, max_value=9), max_size=4)


def sprint_text(ids):
    return ", ".join(str(i) for i in sorted(ids))


@settings(max_examples=150, deadline=None)
@given(states=st.lists(SPRINTS, min_size=1, max_size=60),
       gaps=st.lists(st.integers(min_value=0, max_value=5000), min_size=60, max_size=60))
def test_sprint_replay_forward_from_rebuilt_baseline_gives_current(states, gaps):
    """Replaying Sprint items forward from the rebuilt creation value gives the current sprints."""
    changes, moment = [], T0
    for n, (before, after) in enumerate(zip(states, states[1:], strict=False)):
        moment += timedelta(minutes=gaps[n])  # equal times keep history order
        changes.append(change(1, moment.isoformat(), "Sprint", sprint_text(before),
                              sprint_text(after), history_id=n))
    current = states[-1]
    item = issue(1, created="2025-12-31")
    timeline = history.rebuild(item, changes, current, history.sprint_undo())
    assert timeline.initial == states[0]
    assert history.replay_forward(timeline.initial, changes, history.sprint_apply()) == current
    assert [step.before for step in timeline.steps] == states[:-1]
    assert [step.after for step in timeline.steps] == states[1:]
    for step in timeline.steps:
        assert timeline.value_at(step.at) == history.replay_forward(
            timeline.initial, [c for c in changes if c.at <= step.at], history.sprint_apply())


OPS = st.lists(st.tuples(st.booleans(), st.integers(min_value=1, max_value=6)), max_size=60)


@settings(max_examples=150, deadline=None)
@given(start=st.frozensets(st.integers(min_value=1, max_value=6)), ops=OPS)
def test_fix_version_replay_forward_from_rebuilt_baseline_gives_current(start, ops):
    """Fix Version items (one id added or removed each) rebuild the creation value exactly."""
    value, changes = set(start), []
    for n, (add, version_id) in enumerate(ops):
        if add and version_id not in value:
            changes.append(change(1, (T0 + timedelta(hours=n)).isoformat(), "Fix Version",
                                  None, str(version_id), history_id=n))
            value.add(version_id)
        elif not add and version_id in value:
            changes.append(change(1, (T0 + timedelta(hours=n)).isoformat(), "Fix Version",
                                  str(version_id), None, history_id=n))
            value.discard(version_id)
    current = frozenset(value)
    timeline = history.rebuild(issue(1, created="2025-12-31"), changes, current,
                               history.version_undo)
    assert timeline.initial == start
    assert history.replay_forward(timeline.initial, changes, history.version_apply) == current


@settings(max_examples=100, deadline=None)
@given(points=st.lists(st.one_of(st.none(), st.integers(min_value=0, max_value=40)),
                       min_size=1, max_size=50))
def test_estimate_replay_forward_gives_current(points):
    """Story point items (values only in the display strings) replay back and forth exactly."""
    def text(value):
        return None if value is None else str(value)

    changes = [
        change(1, (T0 + timedelta(hours=n)).isoformat(), "Story Points", None, None,
               from_string=text(a), to_string=text(b), history_id=n)
        for n, (a, b) in enumerate(zip(points, points[1:], strict=False))
    ]
    current = None if points[-1] is None else float(points[-1])
    timeline = history.rebuild(issue(1, created="2025-12-31"), changes, current,
                               history.points_undo)
    expected_start = None if points[0] is None else float(points[0])
    assert timeline.initial == expected_start
    assert history.replay_forward(timeline.initial, changes, history.points_apply) == current


def test_value_before_creation_is_missing():
    """Before the issue existed, the field has no value at all."""
    timeline = history.rebuild(issue(1, created="2026-02-01"), [], frozenset({3}),
                               history.sprint_undo())
    assert timeline.value_at(at("2026-01-31"), missing="gone") == "gone"
    assert timeline.value_at(at("2026-02-02")) == frozenset({3})
