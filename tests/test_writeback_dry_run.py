"""`apply --dry-run`'s plan text: deferred writes listed and marked, issues grouped, counts true."""

from __future__ import annotations

from test_writeback_apply import FakeJira, apply, finding, settings, store_with

from jira_pm.runner import writeback_lines


def test_dry_run_lists_deferred_writes_groups_issues_and_counts_its_lines(store_path):
    """Snapshot: each issue's lines together, deferred ones marked, header counts = lines."""
    conn = store_with(store_path, {1: [], 2: ["pm-overdue"]})
    jira = FakeJira({1: [], 2: ["pm-overdue"]})
    findings = [finding("OD001", "c" * 32, (1,), "pm-overdue", "critical"),
                finding("BU001", "b" * 32, (1,), "pm-budget-warning", "low",
                        message="epic at 85% of its budget")]
    result = apply(conn, jira, findings, cfg=settings(max_writes=2), dry_run=True)
    assert writeback_lines(result, dry_run=True) == [
        "plan (dry run, nothing written): 3 changes to 1 issue now, 2 changes deferred to "
        "later runs (max_writes)",
        "  ABC-1        add-label pm-budget-warning  BU001    epic at 85% of its budget",
        "  ABC-1        add-label pm-overdue         OD001    version 1.4 is 3 days late",
        "  ABC-1        comment                      OD001    not commented on yet: version 1.4 "
        "is 3 days late",
        "  ABC-1        comment                      BU001    deferred to a later run "
        "(max_writes): not commented on yet: epic at 85% of its budget",
        "  ABC-2        remove-label pm-overdue      -        deferred to a later run "
        "(max_writes): no open finding wants this label",
    ]
