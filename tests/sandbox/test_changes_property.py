"""Any sequence of edits leaves a changelog that replays exactly back to the first values."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sandbox_support import shop

from jira_pm.sandbox.changes import InvalidValues, current_values, replay_backward
from jira_pm.sandbox.scenario import load_scenario

edit = st.one_of(
    st.fixed_dictionaries({"status": st.sampled_from(["To Do", "In Progress", "In Review",
                                                      "Done"])}),
    st.fixed_dictionaries({"points": st.one_of(st.none(), st.sampled_from([1, 2.5, 3, 8]))}),
    st.fixed_dictionaries({"add_labels": st.lists(st.sampled_from(["a", "b", "pm-x"]),
                                                  max_size=2)}),
    st.fixed_dictionaries({"remove_labels": st.lists(st.sampled_from(["a", "customer"]),
                                                     max_size=2)}),
    st.fixed_dictionaries({"add_sprint": st.sampled_from(["SHOP Sprint 6", "SHOP Sprint 7"])}),
    st.fixed_dictionaries({"remove_sprint": st.sampled_from(["SHOP Sprint 6",
                                                             "SHOP Sprint 7"])}),
    st.fixed_dictionaries({"fix_versions": st.lists(st.sampled_from(["1.4", "1.5"]),
                                                    unique=True)}),
    st.fixed_dictionaries({"epic": st.sampled_from([None, "SHOP-10"])}),
    st.fixed_dictionaries({"original_estimate": st.sampled_from([None, "4h", "2d"])}),
    st.fixed_dictionaries({"remaining_estimate": st.sampled_from([None, "1h", "3d"])}),
    st.fixed_dictionaries({"due": st.sampled_from([None, "2026-12-01"])}),
    st.fixed_dictionaries({"summary": st.sampled_from(["Checkout", "Checkout v2"])}),
    st.fixed_dictionaries({"budget": st.sampled_from([None, 100, 250.5])}),
)


@settings(max_examples=120, deadline=None)
@given(st.lists(edit, max_size=12))
def test_edits_replay_back_to_the_loaded_values(edits):
    """After random edits, replaying the new histories gives back the values before them."""
    state = load_scenario(shop(), "cloud")
    issue = state.get_issue("SHOP-1")
    before = current_values(issue)
    loaded = len(issue.histories)
    for changes in edits:
        state.update_issue(issue, "alice", **changes)
    # Replaying only the new histories must land exactly on the values before the edits.
    saved, issue.histories = issue.histories, issue.histories[loaded:]
    try:
        assert replay_backward(issue) == before
    finally:
        issue.histories = saved
    replay_backward(issue)  # and the whole changelog still replays consistently
    # Items hold text or nothing: the renderer caches them by value, where 1 == True.
    assert all(part is None or type(part) is str
               for history in issue.histories for item in history.items for part in item)


@pytest.mark.parametrize(("summary", "message"), [
    (1, "must be a string"), (["a"], "must be a string"), ("  ", "You must specify"),
    ("x" * 256, "less than 255"),
])
def test_a_summary_is_checked_as_jira_checks_it(summary, message):
    """Jira's summary rules: text, not blank, at most 255 characters; else nothing changes."""
    state = load_scenario(shop(), "cloud")
    issue = state.get_issue("SHOP-1")
    histories = len(issue.histories)
    with pytest.raises(InvalidValues) as caught:
        state.update_issue(issue, "alice", summary=summary)
    assert message in caught.value.errors["summary"]
    assert len(issue.histories) == histories


def test_a_bad_value_anywhere_in_an_edit_changes_nothing():
    """Every value is parsed before any field changes: one bad value leaves the issue as it was."""
    state = load_scenario(shop(), "cloud")
    issue = state.get_issue("SHOP-1")
    before = (list(issue.labels), issue.updated, len(issue.histories), issue.points)
    with pytest.raises(InvalidValues) as caught:
        state.update_issue(issue, "alice", labels=["x"], points=3, start_date="someday",
                           remaining_estimate="soon")
    assert set(caught.value.errors) == {"start_date", "remaining_estimate"}
    assert (issue.labels, issue.updated, len(issue.histories), issue.points) == before
