"""Loop detection against the sandbox: a label change the site silently undoes stops being sent."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from pg_support import store_section
from test_run_sandbox import FLAVORS, run, site, writes

from jira_pm.cli import main
from jira_pm.store import ledger
from jira_pm.store.schema import connect

pytestmark = pytest.mark.integration


def _stuck(settings):
    conn = connect(settings.store)
    try:
        return [(r.issue_key, r.change, r.runs) for r in ledger.loop_records(conn, stuck_only=True)]
    finally:
        conn.close()


@pytest.mark.parametrize("flavor", FLAVORS)
def test_a_label_the_site_undoes_is_sent_on_three_runs_then_stops_and_is_reported_once(
        flavor, tmp_path, store_path):
    """pm-overdue undone by the site: sent on runs 1-3, held from run 4 with one notice, exit 0."""
    log = tmp_path / "runs.jsonl"
    with site(flavor, store_path) as (app, settings):
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
def test_a_change_that_takes_effect_resets_the_count(flavor, store_path):
    """Undone twice, then kept: the count is forgotten, so a later undo starts again at one."""
    with site(flavor, store_path) as (app, settings):
        app.undo_labels("pm-overdue")
        run(settings)
        run(settings)
        app.undo_labels()  # the automation is fixed: the next send sticks
        run(settings)
        assert app.labels("ABC-1") == ["backend", "pm-overdue"]
        run(settings)  # its sync shows the label: the count goes
        conn = connect(settings.store)
        assert ledger.loop_records(conn) == []
        conn.close()


def config_file(sandbox, tmp_path, store):
    """A jira-pm.toml for the CLI on the same store as ``site``'s settings."""
    login = sandbox.credentials()
    auth = (f'email = "{login["email"]}"\napi_token = "{login["api_token"]}"\n'
            if sandbox.flavor == "cloud" else f'pat = "{login["pat"]}"\n')
    path = tmp_path / "jira-pm.toml"
    path.write_text(f'[jira]\nurl = "{sandbox.url}"\ndeployment = "{sandbox.flavor}"\n{auth}'
                    '[scope]\nprojects = ["ABC"]\n' + store_section(store),
                    encoding="utf-8")
    return path


def cli(config, *args):
    return CliRunner().invoke(main, ["--config", str(config), *args], env={"COLUMNS": "120"})


@pytest.mark.parametrize("flavor", FLAVORS)
def test_log_after_a_run_lists_exactly_the_writes_the_sandbox_counted(flavor, tmp_path, store_path):
    """`jira-pm log --run ID --format json` has one done write per write request Jira got."""
    with site(flavor, store_path) as (app, settings):
        report = run(settings)
        result = cli(config_file(app, tmp_path, store_path), "log", "--run", report.run_id,
                     "--format", "json")
        assert result.exit_code == 0, result.output
        document = json.loads(result.output)
        assert [(r["run_id"], r["outcome"]) for r in document["runs"]] == [
            (report.run_id, "ok")]
        assert [w["status"] for w in document["writes"]] == ["done"] * writes(app)
        labels_written = {w["issue_key"]: w["labels_added"] for w in document["writes"]
                          if w["operation"] == "labels" and w["labels_added"]}
        assert labels_written == {"ABC-1": ["pm-overdue"], "ABC-5": ["pm-over-estimate"],
                                  "ABC-8": ["pm-scope-creep"]}


@pytest.mark.parametrize("flavor", FLAVORS)
def test_stuck_label_is_listed_by_log_and_status_until_unstick_and_then_sent_again(
        flavor, tmp_path, store_path):
    """After it is stuck, log and status list it; `unstick ABC-1` clears it; the next run sends."""
    with site(flavor, store_path) as (app, settings):
        app.undo_labels("pm-overdue")
        for _ in range(4):
            run(settings)
        config = config_file(app, tmp_path, store_path)
        log = cli(config, "log", "--issue", "ABC-1")
        assert ("  ABC-1 add pm-overdue (OD001): sent on 3 runs, undone each time; stuck since"
                in log.output)
        status = json.loads(cli(config, "status", "--format", "json").output)
        assert [(s["issue_key"], s["change"], s["runs"]) for s in status["stuck_writes"]] == [
            ("ABC-1", "+pm-overdue", 3)]
        cleared = cli(config, "unstick", "ABC-1")
        assert cleared.exit_code == 0, cleared.output
        assert cleared.output == ("cleared ABC-1 +pm-overdue (stuck): the next run sends it "
                                  "again\n")
        assert _stuck(settings) == []
        before = writes(app)
        assert run(settings).exit_code == 0
        assert writes(app) == before + 1
        again = cli(config, "unstick", "ABC-2")
        assert again.exit_code == 2 and "no stuck or counted label change on ABC-2" in again.stderr


def test_log_after_a_killed_run_shows_its_unanswered_write_as_interrupted(tmp_path, store_path):
    """A run killed before Jira's answer was recorded: log shows that write interrupted."""
    from test_run_sandbox import Crash, crash_at

    with site("server", store_path) as (app, settings):
        with pytest.raises(Crash):
            run(settings, fault=crash_at("after-request", "labels", 2))
        result = cli(config_file(app, tmp_path, store_path), "log", "--format", "json")
        document = json.loads(result.output)
        assert [r["outcome"] for r in document["runs"]] == ["interrupted"]
        statuses = [w["status"] for w in document["writes"]]
        # Every write that reached Jira has its row (pending is committed before the request);
        # the killed one and any others in flight with it (up to max_parallel) are interrupted.
        assert len(statuses) >= writes(app) >= statuses.count("done")
        assert set(statuses) == {"done", "interrupted"} and statuses.count("interrupted") <= 4
        assert "labels" in {w["operation"] for w in document["writes"]
                            if w["status"] == "interrupted"}
