"""Loop detection against the sandbox: a label change the site silently undoes stops being sent."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from test_run_sandbox import FLAVORS, run, site, writes

from jira_pm.store import ledger
from jira_pm.store.schema import connect

pytestmark = pytest.mark.integration


def _stuck(settings):
    conn = connect(settings.store_path)
    try:
        return [(r.issue_key, r.change, r.runs) for r in ledger.loop_records(conn, stuck_only=True)]
    finally:
        conn.close()


@pytest.mark.parametrize("flavor", FLAVORS)
def test_a_label_the_site_undoes_is_sent_on_three_runs_then_stops_and_is_reported_once(
        flavor, tmp_path):
    """pm-overdue undone by the site: sent on runs 1-3, held from run 4 with one notice, exit 0."""
    log = tmp_path / "runs.jsonl"
    with site(flavor, tmp_path) as (app, settings):
        app.undo_labels("pm-overdue")
        counts, notices = [], []
        for _ in range(5):
            before = writes(app)
            report = run(settings, log_json=log)
            assert report.exit_code == 0
            counts.append(writes(app) - before)
            notices += [n for n in report.writeback.outcome.notices if "pm-overdue" in n]
            assert app.labels("ABC-1") == ["backend"]
        # Run 1 writes everything; runs 2 and 3 resend only ABC-1's label; then nothing.
        assert counts[1:] == [1, 1, 0, 0]
        assert notices == [
            "ABC-1: jira-pm added the label pm-overdue on 3 runs in a row and each time the "
            "next sync showed it undone; it stops sending it (likely cause: a workflow "
            "post-function or an automation rule undoes it, or the Labels field is not on the "
            "issue's edit screen); fix that, then run `jira-pm unstick ABC-1`"]
        events = [json.loads(line) for line in log.read_text().splitlines()]
        stuck = [e for e in events if e["event"] == "write-stuck"]
        assert [(e["issue"], e["change"], e["rule"], e["runs"]) for e in stuck] == [
            ("ABC-1", "+pm-overdue", "OD001", 3)]
        assert _stuck(settings) == [("ABC-1", "+pm-overdue", 3)]


@pytest.mark.parametrize("flavor", FLAVORS)
def test_a_change_that_takes_effect_resets_the_count(flavor, tmp_path):
    """Undone twice, then kept: the count is forgotten, so a later undo starts again at one."""
    with site(flavor, tmp_path) as (app, settings):
        app.undo_labels("pm-overdue")
        run(settings)
        run(settings)
        app.undo_labels()  # the automation is fixed: the next send sticks
        run(settings)
        assert app.labels("ABC-1") == ["backend", "pm-overdue"]
        run(settings)  # its sync shows the label: the count goes
        conn = connect(settings.store_path)
        assert ledger.loop_records(conn) == []
        conn.close()
