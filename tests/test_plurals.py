"""Counts in the product's output read right for one and for many (jira_pm.words.plural)."""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

from jira_pm.runner import writeback_lines
from jira_pm.sync.syncer import SyncResult
from jira_pm.writeback.failures import Failure, failure_lines
from jira_pm.writeback.from_store import WritebackResult
from jira_pm.writeback.plan import Plan, PlanSize

PACKAGE = Path(__file__).resolve().parent.parent / "jira_pm"
# Comment texts are rewritten elsewhere; the sandbox is a test server, not output.
NOT_CHECKED = {PACKAGE / "writeback" / "comments.py"}
HAND_MADE = re.compile(r"[a-z]\((s|es)\)")  # "issue(s)", "match(es)"


def test_sync_summary_says_one_page_and_one_sprint():
    """A sync of one of each says "1 issue ... 1 sprint in 1 page", not "1 sprints in 1 pages"."""
    one = SyncResult(mode="full", pages=1, issues=1, changes=1, worklogs=1, versions=1,
                     sprints=1, requests=1, skipped=1)
    assert one.summary().startswith(
        "full sync: 1 issue (1 changelog item, 1 worklog), 1 version, 1 sprint in 1 page; "
        "1 request in 0.0s; 1 issue skipped")
    many = SyncResult(mode="full", pages=2, issues=1200, sprints=0)
    assert "1,200 issues" in many.summary() and "0 sprints in 2 pages" in many.summary()


def test_plan_size_counts_one_label_change_and_one_comment():
    """The first-write question says "1 label change and 1 comment on 1 issue"."""
    lines = PlanSize(label_changes=1, comments=1, issues=1, notified_issues=1,
                     deferred=1).lines(notify_users=True)
    assert lines[0] == ("1 label change and 1 comment on 1 issue "
                        "(1 more write deferred to later runs)")
    assert lines[1].startswith("watchers notified: those of 1 issue (")


def test_dry_run_and_failure_lines_count_one_write():
    """A dry run's header counts with plurals; one refused write says "1 label write"."""
    [head] = writeback_lines(WritebackResult(Plan(), None), dry_run=True)[:1]
    assert head == ("plan (dry run, nothing written): 0 changes to 0 issues now, 0 changes "
                    "deferred to later runs (max_writes)")
    failed = [Failure("ABC-1", "labels", "forbidden", http_status=403)]
    lines = failure_lines(failed, {"ABC": 1})
    assert lines[0].startswith("failed: ABC: 1 label write refused with 403")
    assert "skipped 1 write to ABC" in lines[1]


def test_no_hand_made_plural_is_left_in_the_package():
    """No string in jira_pm/ writes a plural as "(s)": words.plural() is used instead."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path in NOT_CHECKED or "sandbox" in path.parts:
            continue
        source = io.StringIO(path.read_text(encoding="utf-8"))
        for token in tokenize.generate_tokens(source.readline):
            text = token.string.replace("http(s)", "")  # a URL scheme, not a plural
            if token.type == tokenize.STRING and HAND_MADE.search(text):
                offenders.append(f"{path.relative_to(PACKAGE)}:{token.start[0]}: {token.string}")
    assert offenders == []
