"""Planning `jira-pm clean` from a store and a fake Jira: what it takes back and what it leaves."""

from __future__ import annotations

from test_writeback_apply import ISSUES, PACK_LABELS, settings, store_with

from jira_pm.store import ledger
from jira_pm.writeback.clean import plan_clean


class FakeJira:
    """Comments per issue and the jira-pm user; clean's planning only reads."""

    def __init__(self, comments):
        self.comment_list = comments

    def myself(self):
        return {"accountId": "bot"}

    def comments(self, issue_id):
        return self.comment_list.get(issue_id, [])


def lines(plan):
    return [line[:2] for line in plan.lines()]


def test_clean_plans_owned_labels_and_jira_pm_comments_only(store_path):
    """Owned labels go, a person's stay, exempt issues are skipped, quotes of markers survive."""
    conn = store_with(store_path, {**ISSUES, 4: ["pm-custom", "pm-legacy"]})
    ledger.record_done(conn, run_id="r", issue_id=4, issue_key="ABC-4",
                       operation=ledger.OP_LABELS, label="+pm-legacy")
    ledger.record_done(conn, run_id="r", issue_id=2, issue_key="ABC-2",
                       operation=ledger.OP_COMMENT, rule_id="OD001", fingerprint="f" * 32,
                       comment_id="7")
    marker = "[jira-pm OD001 ffffffffffff]"
    jira = FakeJira({
        1: [{"id": "5", "body": f"flagged {marker}", "author": {"accountId": "bot"}},
            {"id": "6", "body": f"why {marker}?", "author": {"accountId": "person"}}],
        2: [{"id": "7", "body": "edited by a person, marker gone", "author": {}}],
        3: [{"id": "8", "body": f"flagged {marker}", "author": {"accountId": "bot"}}],
    })
    plan = plan_clean(conn, jira, settings(), PACK_LABELS, comments=True)
    assert lines(plan) == [("ABC-1", "remove-label pm-at-risk"),
                           ("ABC-4", "remove-label pm-legacy"),
                           ("ABC-1", "delete-comment 5"), ("ABC-2", "delete-comment 7")]
    assert plan.skipped == [("ABC-3", "carries the exempt label pm-ignore")]
    assert lines(plan_clean(conn, jira, settings(), PACK_LABELS, comments=False)) == [
        ("ABC-1", "remove-label pm-at-risk"), ("ABC-4", "remove-label pm-legacy")]
