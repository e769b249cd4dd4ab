"""Write-back failures against the sandbox over real HTTP: deleted issues, killed runs."""

from __future__ import annotations

import pytest
from test_run_sandbox import (
    EXPECTED_COMMENTS,
    EXPECTED_LABELS,
    FLAVORS,
    Crash,
    crash_at,
    labels,
    markers,
    run,
    site,
)

from jira_pm.jira.client import JiraClient
from jira_pm.runner import apply_pipeline
from jira_pm.store import ledger
from jira_pm.store.schema import connect

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("flavor", FLAVORS)
def test_a_deleted_flagged_issue_leaves_every_other_write_done(flavor, store_path):
    """An issue deleted after the sync fails alone (exit 4); every other write is done."""
    with site(flavor, store_path) as (app, settings):
        assert run(settings, dry_run=True).exit_code == 0  # sync and evaluate, write nothing
        app.delete_issue("ABC-1")  # flagged OD001: needs a label and a comment
        report = apply_pipeline(settings, JiraClient.from_settings(settings.jira))
        assert report.exit_code == 4
        outcome = report.writeback.outcome
        failed = {(f.issue_key, f.operation, f.http_status) for f in outcome.failed}
        assert failed == {("ABC-1", "comment", 404), ("ABC-1", "labels", 404)}
        expected = {k: v for k, v in EXPECTED_LABELS.items() if k != "ABC-1"}
        assert labels(app) == expected
        assert markers(app) == {k: v for k, v in EXPECTED_COMMENTS.items() if k != "ABC-1"}


def test_a_killed_runs_row_and_pending_writes_are_closed_by_the_next_run(store_path):
    """After a kill mid-apply, the next run marks the dead run and its pending rows interrupted."""
    with site("server", store_path) as (app, settings):
        with pytest.raises(Crash):
            run(settings, fault=crash_at("after-request", "comment", 1))
        conn = connect(settings.store)
        (killed,) = [r["id"] for r in conn.execute("SELECT id FROM runs")]
        conn.close()
        report = run(settings)
        assert report.exit_code == 0
        conn = connect(settings.store)
        row = conn.execute("SELECT outcome, finished FROM runs WHERE id = ?", (killed,)).fetchone()
        assert row["outcome"] == "interrupted" and row["finished"]
        statuses = {e.status for e in ledger.entries(conn, killed)}
        conn.close()
        assert "pending" not in statuses and "interrupted" in statuses
        assert labels(app) == EXPECTED_LABELS and markers(app) == EXPECTED_COMMENTS
