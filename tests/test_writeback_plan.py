"""The write-back planner: which labels and comments each issue gets, from findings alone."""

from __future__ import annotations

from dataclasses import replace

from jira_pm.model import Finding
from jira_pm.store.ledger import DONE, PENDING, CommentRecord
from jira_pm.writeback.comments import finding_comment, resolved_comment
from jira_pm.writeback.plan import (
    CommentWrite,
    IssueState,
    LabelWrite,
    Policy,
    ResolvedFinding,
    plan_candidates,
    plan_size,
)

# What a rule pack and a ledger would make owned; the prefix alone owns nothing.
OWNED = frozenset({"late", "pm-overdue", "pm-at-risk", "pm-budget-warning", "pm-stale", "pm-old"})
POLICY = Policy(label_prefix="pm-", owned_labels=OWNED, exempt_label="pm-ignore",
                exempt_issue_types=frozenset({"sub-task"}), exempt_projects=frozenset({"SEC"}))


def issue(id_, key, labels=(), project="ABC", issue_type="Task"):
    return IssueState(id_, key, project, issue_type, tuple(labels))


def finding(rule="OD001", fp="f" * 32, issues=(1,), label="pm-overdue", severity="high",
            policy="once", message="version 1.4 is 3 days late"):
    return Finding(rule, "overdue", "version", "10", "1.4", "ABC", severity, message,
                   {"days_late": 3}, tuple(issues), label, policy, fp)


def labels_of(plan):
    return {(w.issue_key, w.add, w.remove) for w in plan.writes if isinstance(w, LabelWrite)}


def comments_of(plan):
    return [(w.issue_key, w.operation, w.rule_id) for w in plan.writes
            if isinstance(w, CommentWrite)]


def test_adds_wanted_removes_stale_owned_and_keeps_person_labels():
    """Wanted owned labels are added, unwanted owned ones removed, a person's labels untouched."""
    issues = {1: issue(1, "ABC-1", ["frontend", "pm-at-risk"]), 2: issue(2, "ABC-2", ["late"])}
    plan = plan_candidates(issues, [finding(issues=(1,))], {}, POLICY)
    assert labels_of(plan) == {("ABC-1", ("pm-overdue",), ("pm-at-risk",)),
                               ("ABC-2", (), ("late",))}


def test_label_already_present_needs_no_write():
    """An issue that already carries exactly the wanted owned labels gets no label write."""
    plan = plan_candidates({1: issue(1, "ABC-1", ["pm-overdue", "x"])}, [finding()],
                           {(("f" * 32), 1): CommentRecord("c1", None, DONE)}, POLICY)
    assert plan.writes == []


def test_exempt_label_is_never_owned_and_blocks_every_write():
    """An issue carrying pm-ignore is skipped, and pm-ignore is never removed."""
    issues = {1: issue(1, "ABC-1", ["pm-ignore", "pm-at-risk"])}
    plan = plan_candidates(issues, [finding()], {}, POLICY)
    assert plan.writes == []
    assert plan.skipped == [("ABC-1", "carries the exempt label pm-ignore")]
    assert not POLICY.owns("pm-ignore")


def test_exempt_projects_and_issue_types_are_never_written():
    """Issues in an exempt project or of an exempt type get neither labels nor comments."""
    issues = {1: issue(1, "SEC-1", project="SEC"), 2: issue(2, "ABC-2", issue_type="Sub-task")}
    plan = plan_candidates(issues, [finding(issues=(1, 2))], {}, POLICY)
    assert plan.writes == []
    assert {key for key, _ in plan.skipped} == {"SEC-1", "ABC-2"}


def test_a_rule_label_outside_the_owned_set_is_not_written():
    """A finding whose label the pack does not own adds nothing."""
    plan = plan_candidates({1: issue(1, "ABC-1")}, [finding(label="urgent", policy="never")],
                           {}, POLICY)
    assert plan.writes == []


def test_once_policy_comments_each_labelled_issue_until_the_ledger_has_it():
    """Policy once plans a comment per labelled issue, and none once the ledger has it done."""
    issues = {1: issue(1, "ABC-1"), 2: issue(2, "ABC-2")}
    f = finding(issues=(1, 2))
    first = plan_candidates(issues, [f], {}, POLICY)
    assert comments_of(first) == [("ABC-1", "comment", "OD001"), ("ABC-2", "comment", "OD001")]
    done = {(f.fingerprint, 1): CommentRecord("c1", "x", DONE),
            (f.fingerprint, 2): CommentRecord(None, "y", PENDING)}
    later = plan_candidates(issues, [f], done, POLICY)
    assert comments_of(later) == [("ABC-2", "comment", "OD001")]
    assert [w.pending_hash for w in later.writes if isinstance(w, CommentWrite)] == ["y"]


def test_never_policy_posts_no_comment():
    """Policy never labels the issue but plans no comment."""
    plan = plan_candidates({1: issue(1, "ABC-1")}, [finding(policy="never")], {}, POLICY)
    assert comments_of(plan) == [] and len(labels_of(plan)) == 1


def test_on_change_edits_the_same_comment_when_the_message_changes():
    """Policy on-change edits the recorded comment in place when its text differs, else nothing."""
    f = finding(policy="on-change", message="4 days late")
    same_hash = finding_comment(f, "ABC-1", "pm-ignore").content_hash()
    issues = {1: issue(1, "ABC-1", ["pm-overdue"])}
    stale = plan_candidates(issues, [f], {(f.fingerprint, 1): CommentRecord("c9", "old", DONE)},
                            POLICY)
    assert [(w.operation, w.comment_id) for w in stale.writes] == [("edit-comment", "c9")]
    fresh = plan_candidates(issues, [f], {(f.fingerprint, 1): CommentRecord("c9", same_hash, DONE)},
                            POLICY)
    assert fresh.writes == []


def test_resolved_on_change_finding_edits_its_comment_once():
    """A cleared on-change finding's comment is edited to say resolved, and not again after."""
    gone = ResolvedFinding("OD001", "a" * 32, "late", "pm-overdue", "on-change")
    issues = {1: issue(1, "ABC-1", ["pm-overdue"])}
    records = {("a" * 32, 1): CommentRecord("c3", "old", DONE)}
    plan = plan_candidates(issues, [], records, POLICY, [gone])
    assert labels_of(plan) == {("ABC-1", (), ("pm-overdue",))}
    assert comments_of(plan) == [("ABC-1", "edit-comment", "OD001")]
    done_hash = resolved_comment("OD001", "a" * 32, "late", "pm-overdue").content_hash()
    again = plan_candidates({1: issue(1, "ABC-1")}, [], {("a" * 32, 1): CommentRecord(
        "c3", done_hash, DONE)}, POLICY, [gone])
    assert again.writes == []


def test_resolved_once_finding_leaves_its_comment_alone():
    """A cleared once-policy finding only loses its label; its comment stays as history."""
    gone = ResolvedFinding("OD001", "a" * 32, "late", "pm-overdue", "once")
    plan = plan_candidates({1: issue(1, "ABC-1", ["pm-overdue"])}, [],
                           {("a" * 32, 1): CommentRecord("c3", "old", DONE)}, POLICY, [gone])
    assert comments_of(plan) == []


def test_writes_are_ordered_most_severe_first_label_before_comment():
    """Writes run most severe first, and for one issue its label before its comment."""
    issues = {1: issue(1, "ABC-1"), 2: issue(2, "ABC-2"), 3: issue(3, "ABC-3", ["pm-stale"])}
    findings = [finding("BU001", "b" * 32, (1,), "pm-budget-warning", "low"),
                finding("OD001", "c" * 32, (2,), "pm-overdue", "critical")]
    plan = plan_candidates(issues, findings, {}, POLICY)
    order = [(w.issue_key, w.operation) for w in plan.writes]
    assert order == [("ABC-2", "labels"), ("ABC-2", "comment"), ("ABC-1", "labels"),
                     ("ABC-1", "comment"), ("ABC-3", "labels")]


def test_plan_lines_say_issue_operation_rule_and_why():
    """Each plan line names the issue, the operation, the rule and the reason."""
    plan = plan_candidates({1: issue(1, "ABC-1", ["pm-old"])}, [finding()], {}, POLICY)
    assert plan.lines() == [
        ("ABC-1", "add-label pm-overdue", "OD001", "version 1.4 is 3 days late"),
        ("ABC-1", "remove-label pm-old", "-", "no open finding wants this label"),
        ("ABC-1", "comment", "OD001", "not commented on yet: version 1.4 is 3 days late"),
    ]


def test_prefix_labels_outside_the_owned_set_are_left_alone():
    """A team's pm-approved or pm-custom is never removed: the prefix alone owns nothing."""
    issues = {1: issue(1, "ABC-1", ["pm-approved", "pm-custom", "pm-at-risk"])}
    plan = plan_candidates(issues, [], {}, POLICY)
    assert labels_of(plan) == {("ABC-1", (), ("pm-at-risk",))}
    assert not POLICY.owns("pm-custom") and POLICY.leaves_alone("pm-custom")
    assert not POLICY.leaves_alone("pm-ignore") and not POLICY.leaves_alone("backend")


def test_exempt_label_is_not_owned_even_when_named_owned():
    """The exempt label stays unowned even if the pack or ledger names it."""
    policy = replace(POLICY, owned_labels=OWNED | {"pm-ignore"})
    assert not policy.owns("pm-ignore")


def test_labels_only_mode_plans_labels_and_no_comment():
    """With [writeback] comments = false no comment is posted, edited or marked resolved."""
    labels_only = replace(POLICY, comments=False)
    gone = ResolvedFinding("OD002", "a" * 32, "late", "pm-at-risk", "on-change")
    issues = {1: issue(1, "ABC-1", ["pm-at-risk"])}
    records = {("a" * 32, 1): CommentRecord("c3", "old", DONE)}
    plan = plan_candidates(issues, [finding(policy="on-change")], records, labels_only, [gone])
    assert comments_of(plan) == []
    assert labels_of(plan) == {("ABC-1", ("pm-overdue",), ("pm-at-risk",))}


def test_plan_size_counts_label_changes_comments_issues_and_notified_watchers():
    """The size counts each label change, each comment, the issues, and whose watchers get mail."""
    issues = {1: issue(1, "ABC-1", ["pm-stale"]), 2: issue(2, "ABC-2", ["pm-old"])}
    plan = plan_candidates(issues, [finding(issues=(1,))], {}, POLICY)
    loud = plan_size(plan, notify_users=True)
    assert (loud.label_changes, loud.comments, loud.issues, loud.notified_issues) == (3, 1, 2, 2)
    quiet = plan_size(plan, notify_users=False)
    assert quiet.notified_issues == 1  # only the new comment's issue: a POST always notifies
    assert "3 label changes and 1 comment on 2 issues" in quiet.lines(False)[0]
