"""Comment sentences: right for their subject, counts and lists bounded, on-change edits once."""

from __future__ import annotations

from dataclasses import replace
from zoneinfo import ZoneInfo

from jira_pm.model import Finding
from jira_pm.store.ledger import DONE, CommentRecord
from jira_pm.writeback.comments import Lookups, finding_comment, finding_sentences
from jira_pm.writeback.plan import IssueState, Policy, plan_candidates

KEYS = {i: f"ABC-{i}" for i in range(1, 30)}
LOOKUPS = Lookups(keys=KEYS, names={"acc-1": "Ana Lopez"}, zone=ZoneInfo("Europe/Berlin"),
                  site_url="https://jira.example.test")


def overdue(issue_ids=(1,), late=1) -> Finding:
    evidence = {"release_date": "2026-11-10", "grace_days": 0, "deadline": "2026-11-10",
                "today": "2026-11-11", "working_days_late": late,
                "unresolved": len(issue_ids), "unresolved_keys": [KEYS[i] for i in issue_ids]}
    return Finding("OD001", "version_overdue", "version", "7", "2.0", "ABC", "high", "late",
                   evidence, tuple(issue_ids), "pm-overdue", "on-change", "a" * 32)


def budget(subject="ABC-12") -> Finding:
    evidence = {"budget": 40.0, "unit": "hours", "currency": None, "source": "config",
                "actual": 46.0, "spent_fraction": 1.15, "warn_at": 0.8,
                "remaining_estimate": 0.0, "forecast": 46.0, "issues_counted": 3,
                "unpriced_hours": 0.0, "by_person": {"acc-1": 46.0}, "subject_kind": "Epic"}
    return Finding("BU002", "budget_breach", "epic", "12", subject, "ABC", "high", "over",
                   evidence, (12,), "pm-budget-breach", "once", "b" * 32)


def test_one_open_issue_and_one_day_are_singular():
    """One open issue and one working day read "1 issue is" and "1 working day", never "(s)"."""
    lines = finding_sentences(overdue((1,), late=1), LOOKUPS, "ABC-1")
    assert lines[0] == ("Release ABC 2.0 is 1 working day late: it was due Tue 10 Nov 2026 and "
                        "1 issue is still open.")
    assert lines[1] == "Still open: ABC-1 (this issue)."


def test_at_most_ten_keys_then_and_n_more_with_this_issue_always_shown():
    """Fifteen open issues list ten keys and "and 5 more"; the commented issue is among them."""
    line = finding_sentences(overdue(tuple(range(1, 16))), LOOKUPS, "ABC-14")[1]
    assert line.count("ABC-") == 10 and line.endswith(" and 5 more.")
    assert "ABC-14 (this issue)" in line and "ABC-10" not in line


def test_a_budget_comment_on_the_epic_itself_never_says_part_of_epic():
    """On the epic that carries the budget the comment says "This epic", not "part of epic"."""
    lines = finding_sentences(budget(), LOOKUPS, "ABC-12", "pm-ignore")
    text = "\n".join(lines)
    assert lines[0] == "This epic is over budget: 46 h spent of its 40 h budget (115%)."
    assert "part of" not in text and "ABC-12" not in text
    assert "spent fraction" not in text and "source" not in text and "warn" not in text


def test_sentences_without_an_issue_speak_of_the_subject():
    """Without an issue (the report), the subject is named and no "this issue" is said."""
    lines = finding_sentences(budget(), LOOKUPS)
    assert lines[0].startswith("Epic ABC-12 is over budget")
    assert not any("this issue" in line for line in lines)


def test_on_change_edits_once_when_an_open_issue_is_added_and_not_again():
    """A second open issue in the late release edits the on-change comment once; rerun: nothing."""
    issues = {i: IssueState(i, KEYS[i], "ABC", "Story", ("pm-overdue",)) for i in (1, 2)}
    policy = Policy(owned_labels=frozenset({"pm-overdue"}))
    first = finding_comment(overdue((1,)), "ABC-1", "pm-ignore", LOOKUPS)
    records = {("a" * 32, 1): CommentRecord("c1", first.content_hash(), DONE)}
    same = plan_candidates(issues, [overdue((1,))], records, policy, lookups=LOOKUPS)
    assert not [w for w in same.writes if w.issue_key == "ABC-1"]
    grown = plan_candidates(issues, [overdue((1, 2))], records, policy, lookups=LOOKUPS)
    edits = [w for w in grown.writes if w.issue_key == "ABC-1"]
    assert [w.operation for w in edits] == ["edit-comment"] and "ABC-2" in edits[0].text.lines()[1]
    records[("a" * 32, 1)] = replace(records[("a" * 32, 1)],
                                     content_hash=edits[0].text.content_hash())
    again = plan_candidates(issues, [overdue((1, 2))], records, policy, lookups=LOOKUPS)
    assert not [w for w in again.writes if w.issue_key == "ABC-1"]
