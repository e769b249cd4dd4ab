"""Write-back failures: unreadable issues, refused projects, 503 on a POST, notices said once."""

from __future__ import annotations

import pytest
from test_writeback_apply import FakeJira, apply, finding, store_with

from jira_pm.config import Settings
from jira_pm.errors import JiraNotFound, JiraPermissionError
from jira_pm.runner import writeback_lines
from jira_pm.store import ledger


class Crash(BaseException):
    """Stands in for a kill: nothing after it runs, committed ledger rows stay."""


def move_to(conn, issue_ids, project):
    """Put stored issues into another project (key PROJECT-<id>)."""
    for issue_id in issue_ids:
        conn.execute("UPDATE issues SET project_key = ?, key = ? WHERE id = ?",
                     (project, f"{project}-{issue_id}", issue_id))
    conn.commit()


# ---- one unreadable issue -------------------------------------------------------------------


@pytest.mark.parametrize("error", [
    JiraNotFound("GET /rest/api/2/issue/1/comment: not found (404: Issue does not exist)",
                 status=404),
    JiraPermissionError("GET /rest/api/2/issue/1/comment: permission denied (403)", status=403),
])
def test_an_issue_whose_comments_cannot_be_read_fails_alone(store_path, error):
    """A 404/403 on one issue's marker search fails that comment only; the rest is written."""
    conn = store_with(store_path, {1: [], 2: []})
    jira = FakeJira({1: [], 2: []})
    jira.unreadable = {1: error}
    result = apply(conn, jira, [finding(issues=(1, 2))])
    assert result.exit_code == 4
    assert jira.labels == {1: ["pm-overdue"], 2: ["pm-overdue"]}
    assert jira.marker_count(2) == 1 and jira.marker_count(1) == 0
    assert [(f.issue_key, f.operation, f.http_status) for f in result.outcome.failed] == [
        ("ABC-1", "comment", error.status)]
    rows = [(r.issue_key, r.operation, r.status, r.http_status) for r in ledger.entries(conn)
            if r.status != "done"]
    assert rows == [("ABC-1", "comment", "failed", error.status)]
    jira.unreadable = {}  # readable again: the next run searches, then posts once
    again = apply(conn, jira, [finding(issues=(1, 2))])
    assert again.exit_code == 0 and jira.marker_count(1) == 1


def test_a_dry_run_reports_an_unreadable_issue_instead_of_aborting(store_path):
    """The dry run's marker search survives a 404 on one issue and lists it in the plan."""
    conn = store_with(store_path, {1: [], 2: []})
    jira = FakeJira({1: [], 2: []})
    jira.unreadable = {1: JiraNotFound("not found (404)", status=404)}
    result = apply(conn, jira, [finding(issues=(1, 2))], dry_run=True)
    assert [(w.issue_key, w.operation) for w in result.plan.writes] == [
        ("ABC-1", "labels"), ("ABC-2", "labels"), ("ABC-2", "comment")]
    assert any("ABC-1" in line and "not found (404)" in line
               for line in writeback_lines(result, dry_run=True))


# ---- a project that refuses every write -----------------------------------------------------


def read_only(store_path, count, projects=("ABC",)):
    """A store and a fake Jira of ``count`` issues per project, every write refused (403)."""
    ids = list(range(1, count * len(projects) + 1))
    conn = store_with(store_path, {i: [] for i in ids})
    for n, project in enumerate(projects):
        move_to(conn, ids[n * count:(n + 1) * count], project)
    jira = FakeJira({i: [] for i in ids})
    jira.refuse = set(ids)
    return conn, jira, ids, Settings.for_tests(projects=list(projects))


def test_a_project_refusing_every_write_is_given_up_after_five_and_exits_3(store_path):
    """After 5 refusals in a row nothing more is sent there; skipped writes are counted; exit 3."""
    conn, jira, ids, cfg = read_only(store_path, 250, projects=("PAY",))
    result = apply(conn, jira, [finding(issues=ids)], cfg=cfg)
    outcome = result.outcome
    assert result.exit_code == 3
    assert len(outcome.failed) == 5 and outcome.given_up == {"PAY": 495}
    assert len([r for r in ledger.entries(conn)]) == 5  # skipped writes leave no ledger row
    lines = [line for line in writeback_lines(result)
             if line.startswith(("failed:", "notice:"))]
    assert len(lines) <= 3
    text = "\n".join(lines)
    assert "Edit Issues (EDIT_ISSUES)" in text and "495 writes to PAY" in text


def test_a_refusing_project_is_given_up_while_another_is_written(store_path):
    """A read-only project stops after 5 refusals; the other project's writes all land; exit 4."""
    conn, jira, ids, cfg = read_only(store_path, 10, projects=("PAY", "OPS"))
    ops = ids[10:]
    jira.refuse = set(ids[:10])
    result = apply(conn, jira, [finding(issues=ids)], cfg=cfg)
    assert result.exit_code == 4
    assert result.outcome.given_up == {"PAY": 15}
    assert all(jira.labels[i] == ["pm-overdue"] and jira.marker_count(i) == 1 for i in ops)
    assert {f.issue_key.split("-")[0] for f in result.outcome.failed} == {"PAY"}
    jira.refuse = set()  # permission granted: the next run writes what was skipped
    again = apply(conn, jira, [finding(issues=ids)], cfg=cfg)
    assert again.exit_code == 0 and all(jira.marker_count(i) == 1 for i in ids)


def test_writes_refused_with_401_give_the_project_up_and_the_run_goes_on(store_path):
    """401 on writes (reads worked) counts like 403: that project is given up, the other written."""
    conn, jira, ids, cfg = read_only(store_path, 10, projects=("PAY", "OPS"))
    jira.refuse, jira.refuse_401 = set(ids[:10]), True
    result = apply(conn, jira, [finding(issues=ids, policy="never")], cfg=cfg)
    assert result.exit_code == 4 and result.outcome.given_up == {"PAY": 5}
    assert all(jira.labels[i] == ["pm-overdue"] for i in ids[10:])
    assert any("write:jira-work" in line for line in writeback_lines(result))


def test_a_write_that_succeeds_resets_the_count_of_refusals(store_path):
    """Refusals separated by a successful write in the same project never give it up."""
    conn, jira, ids, _ = read_only(store_path, 12)
    jira.refuse = {i for i in ids if i % 4}  # every fourth issue may be edited
    result = apply(conn, jira, [finding(issues=ids, policy="never")])
    assert result.outcome.given_up == {} and len(result.outcome.failed) == 9
    assert result.exit_code == 4


# ---- a comment POST answered 503 ------------------------------------------------------------


def test_a_post_answered_503_is_posted_again_once_the_marker_search_finds_nothing(store_path):
    """A 503 POST (not processed) is retried after the marker search; one comment lands."""
    conn = store_with(store_path, {2: []})
    jira = FakeJira({2: []})
    jira.posts_503 = 1
    result = apply(conn, jira, [finding(issues=(2,))])
    assert result.exit_code == 0 and jira.marker_count(2) == 1 and jira.post_attempts == 2
    assert [r.status for r in ledger.entries(conn) if r.operation == "comment"] == ["done"]


def test_posts_answered_503_again_and_again_are_retried_a_bounded_number_of_times(store_path):
    """A POST answered 503 every time is tried 3 times in all, then reported failed."""
    conn = store_with(store_path, {2: []})
    jira = FakeJira({2: []})
    jira.posts_503 = 10
    result = apply(conn, jira, [finding(issues=(2,))])
    assert result.exit_code == 4 and jira.post_attempts == 3 and jira.marker_count(2) == 0


def test_a_comment_adopted_after_a_kill_gets_its_comment_property(store_path):
    """Killed after the POST, the rerun finds the comment by marker and tags it (property)."""
    conn = store_with(store_path, {2: []})
    jira = FakeJira({2: []})

    def kill_after_post(where, write):
        if where == "after-request" and write.operation == "comment":
            raise Crash

    with pytest.raises(Crash):
        apply(conn, jira, [finding(issues=(2,))], fault=kill_after_post)
    assert jira.properties == {}
    result = apply(conn, jira, [finding(issues=(2,))])
    assert result.outcome.adopted == 1
    (comment,) = jira.comment_list[2]
    assert jira.properties[comment["id"]]["fingerprint"] == "f" * 32
    writes = len(jira.writes)
    apply(conn, jira, [finding(issues=(2,))])
    assert len(jira.writes) == writes


# ---- notices said once ----------------------------------------------------------------------


def test_a_missing_comment_property_endpoint_is_said_once_and_tried_once(store_path):
    """Without a comment-property endpoint the notice appears once and is not tried per comment."""
    ids = list(range(1, 12))
    conn = store_with(store_path, {i: [] for i in ids})
    jira = FakeJira({i: [] for i in ids})
    jira.no_property_endpoint = True
    result = apply(conn, jira, [finding(issues=ids)])
    assert result.exit_code == 0 and all(jira.marker_count(i) == 1 for i in ids)
    assert len(result.outcome.notices) == 1 and "comment property" in result.outcome.notices[0]
    tried = [r for r in ledger.entries(conn) if r.operation == "comment-property"]
    assert len(tried) == 1


def test_a_refused_marker_search_is_listed_apart_from_the_refused_writes():
    """In a given-up project, an unreadable issue's comment is its own line, not a refused post."""
    from jira_pm.writeback.failures import Failure, failure_lines

    failed = [Failure(f"PAY-{n}", "labels", "permission denied (403)", 403) for n in range(5)]
    failed.append(Failure("PAY-9", "comment", "could not search the issue's comments", 403,
                          unsent=True))
    lines = failure_lines(failed, {"PAY": 3})
    assert lines[0].startswith("failed: PAY: 5 label writes refused with 403")
    assert "comment posts" not in "\n".join(lines)
    assert lines[-1] == "failed: PAY-9 comment: could not search the issue's comments"


def test_a_read_only_account_with_a_small_plan_exits_3_not_4(store_path):
    """Fewer than five writes, every one refused 403: nothing went through, so exit 3, not 4."""
    conn, jira, ids, cfg = read_only(store_path, 2, projects=("PAY",))
    result = apply(conn, jira, [finding(issues=ids)], cfg=cfg)
    assert result.outcome.done == [] and result.outcome.given_up == {}
    assert {f.http_status for f in result.outcome.failed} == {403}
    assert result.exit_code == 3
