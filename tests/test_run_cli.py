"""The `run` and `apply` commands as a user and cron see them: output, quiet mode, exit codes."""

from __future__ import annotations

import contextlib
import json
import re

import pytest
from click.testing import CliRunner
from pg_support import store_section
from test_run_sandbox import EXPECTED_LABELS, _day, scenario

from jira_pm.cli import main
from jira_pm.config import load_settings
from jira_pm.engine import evaluate_store
from jira_pm.sandbox.server import Sandbox
from jira_pm.store.locks import run_lock
from jira_pm.store.schema import connect

pytestmark = pytest.mark.integration


@contextlib.contextmanager
def configured(tmp_path, store, user="admin"):
    """A sandbox (server flavour) and a jira-pm.toml pointing at it and at ``store``."""
    with Sandbox("server", scenario=scenario()) as sandbox:
        config = tmp_path / "jira-pm.toml"
        config.write_text(
            f'[jira]\nurl = "{sandbox.url}"\ndeployment = "server"\n'
            f'pat = "{sandbox.credentials(user)["pat"]}"\n'
            '[scope]\nprojects = ["ABC"]\n' + store_section(store),
            encoding="utf-8",
        )
        yield sandbox, config


# SQLite's run lock covers the store; PostgreSQL's covers one scope (store/locks.py).
HELD = re.compile(r"another jira-pm run holds (?:the|its) lock ")


def holding_the_run_lock(config):
    """The run lock of the config's store and scope, held as another run would hold it."""
    settings = load_settings(config)
    return run_lock(settings.store, "busy", "")


def invoke(config, *args):
    return CliRunner().invoke(main, ["--config", str(config), *args])


def test_run_prints_a_one_screen_summary_and_exits_0(tmp_path, store_path):
    """`jira-pm run` prints the sync, the findings and the writes, and exits 0."""
    with configured(tmp_path, store_path) as (sandbox, config):
        result = invoke(config, "run")
        assert result.exit_code == 0, result.output
        lines = result.stdout.splitlines()
        assert lines[0].startswith("jira-pm run ") and lines[1].startswith("sync: full sync")
        assert "findings: 3 open (3 new, 0 resolved)" in lines
        assert "writes: 7 done, 0 failed, 0 deferred to the next run" in lines
        assert len(lines) < 25
        assert {k: sandbox.labels(k) for k in EXPECTED_LABELS} == EXPECTED_LABELS


def test_quiet_run_prints_nothing_on_success(tmp_path, store_path):
    """`run --quiet` is silent when everything was written."""
    with configured(tmp_path, store_path) as (sandbox, config):
        result = invoke(config, "run", "--quiet")
        assert result.exit_code == 0 and result.output == ""
        assert {k: sandbox.labels(k) for k in EXPECTED_LABELS} == EXPECTED_LABELS


def test_quiet_run_reports_a_read_only_user_in_a_few_lines_and_exits_3(tmp_path, store_path):
    """With a read-only user, `run --quiet` prints a line per cause, the skipped count; exit 3."""
    with configured(tmp_path, store_path, user="readonly") as (_, config):
        result = invoke(config, "run", "--quiet")
        assert result.exit_code == 3 and result.stdout == ""
        lines = result.stderr.splitlines()
        assert len(lines) <= 3, lines
        assert any("Edit Issues (EDIT_ISSUES)" in line for line in lines)
        assert any("skipped 2 writes to ABC" in line for line in lines)


def test_run_while_another_holds_the_lock_says_so_and_exits_0(tmp_path, store_path):
    """A run that finds the lock held prints one line saying so and exits 0."""
    with configured(tmp_path, store_path) as (sandbox, config):
        with holding_the_run_lock(config):
            result = invoke(config, "run")
        assert result.exit_code == 0
        assert HELD.search(result.stderr)
        assert sandbox.stats()["total"] == 0


def test_apply_dry_run_prints_the_plan_then_apply_performs_it(tmp_path, store_path):
    """`apply --dry-run` lists issue, operation, rule and why; `apply` then writes it, exit 0."""
    with configured(tmp_path, store_path) as (sandbox, config):
        assert invoke(config, "sync").exit_code == 0
        settings = load_settings(config)
        conn = connect(settings.store)
        evaluate_store(conn, settings)
        conn.close()
        dry = invoke(config, "apply", "--dry-run")
        assert dry.exit_code == 0, dry.output
        assert ("plan (dry run, nothing written): 7 changes to 4 issues now, 0 changes deferred "
                "to later runs (max_writes)") in dry.stdout
        plan_line = [line.split() for line in dry.stdout.splitlines() if "ABC-1 " in line][0]
        assert plan_line[:4] == ["ABC-1", "add-label", "pm-overdue", "OD001"]
        assert sandbox.labels("ABC-1") == ["backend"]
        real = invoke(config, "apply")
        assert real.exit_code == 0 and "writes: 7 done" in real.stdout
        assert sandbox.labels("ABC-1") == ["backend", "pm-overdue"]


def test_bad_as_of_is_a_usage_error(tmp_path):
    """`run --as-of` with a non-date exits 2 with a one-line hint."""
    with configured(tmp_path, tmp_path / "store.sqlite") as (_, config):  # refused before the store
        result = invoke(config, "run", "--as-of", "yesterday")
        assert result.exit_code == 2
        assert "--as-of 'yesterday' is neither a date nor an ISO datetime" in result.stderr
        assert result.stderr.count("\n") == 1


def test_apply_after_sync_without_audit_writes_the_findings_not_removals(tmp_path, store_path):
    """`apply` evaluates the store itself: after a bare sync it adds the expected labels."""
    with configured(tmp_path, store_path) as (sandbox, config):
        assert invoke(config, "sync").exit_code == 0
        dry = invoke(config, "apply", "--dry-run")
        assert dry.exit_code == 0, dry.output
        assert "findings: 3 open (3 new, 0 resolved)" in dry.stdout
        assert "plan (dry run, nothing written): 7 changes to 4 issues now" in dry.stdout
        removals = [line for line in dry.stdout.splitlines() if "remove-label" in line]
        assert [line.split()[:3] for line in removals] == [["ABC-4", "remove-label",
                                                            "pm-at-risk"]]
        real = invoke(config, "apply")
        assert real.exit_code == 0 and "writes: 7 done, 0 failed" in real.stdout, real.output
        assert {k: sandbox.labels(k) for k in EXPECTED_LABELS} == EXPECTED_LABELS
        assert invoke(config, "apply").stdout.count("writes: 0 done") == 1


def test_apply_after_a_stale_audit_uses_fresh_findings(tmp_path, store_path):
    """An audit recorded before the latest sync does not drive `apply`: it re-evaluates."""
    with configured(tmp_path, store_path) as (sandbox, config):
        assert invoke(config, "sync").exit_code == 0
        assert invoke(config, "audit").exit_code == 0  # records OD001 on ABC-1
        sandbox.release_version("ABC", "1.0")  # ... which then clears in Jira
        assert invoke(config, "sync").exit_code == 0
        real = invoke(config, "apply")
        assert real.exit_code == 0, real.output
        assert "findings: 2 open (0 new, 1 resolved)" in real.stdout
        assert sandbox.labels("ABC-1") == ["backend"]
        assert sandbox.labels("ABC-5") == ["pm-over-estimate"]
        assert sandbox.labels("ABC-8") == ["pm-scope-creep"]


def test_apply_as_of_evaluates_at_that_date(tmp_path, store_path):
    """`apply --as-of` evaluates as of that day: before the release date nothing is overdue."""
    with configured(tmp_path, store_path) as (_, config):
        assert invoke(config, "sync").exit_code == 0
        then = invoke(config, "apply", "--dry-run", "--as-of", _day(-20))
        assert then.exit_code == 0, then.output
        assert "pm-overdue" not in then.stdout
        assert "add-label pm-overdue" in invoke(config, "apply", "--dry-run").stdout
        assert invoke(config, "apply", "--as-of", "yesterday").exit_code == 2


def test_apply_on_a_never_synced_store_exits_2_in_one_line(tmp_path, store_path):
    """`apply` before any sync says so and writes nothing (no removal of every pm- label)."""
    with configured(tmp_path, store_path) as (sandbox, config):
        result = invoke(config, "apply")
        assert result.exit_code == 2
        assert "has never been synced" in result.stderr and "jira-pm sync" in result.stderr
        assert result.stderr.count("\n") == 1
        assert not store_path.exists()
        connect(store_path).close()  # an empty store is as good as none
        again = invoke(config, "apply", "--dry-run")
        assert again.exit_code == 2 and "has never been synced" in again.stderr
        assert sandbox.stats()["total"] == 0


def test_apply_while_a_run_holds_the_lock_says_so_and_exits_2(tmp_path, store_path):
    """`apply` takes the run lock: while a run holds it, apply does nothing and exits 2."""
    with configured(tmp_path, store_path) as (sandbox, config):
        assert invoke(config, "sync").exit_code == 0
        sandbox.reset_stats()
        with holding_the_run_lock(config):
            result = invoke(config, "apply")
        assert result.exit_code == 2
        assert HELD.match(result.stderr.removeprefix("jira-pm: error: "))
        assert "apply again" in result.stderr and result.stderr.count("\n") == 1
        assert sandbox.stats()["total"] == 0
        assert sandbox.labels("ABC-1") == ["backend"]
        assert invoke(config, "apply").exit_code == 0  # the lock was released
        assert sandbox.labels("ABC-1") == ["backend", "pm-overdue"]


def test_clean_while_a_run_holds_the_lock_says_so_and_exits_2(tmp_path, store_path):
    """`clean` takes the run lock too: held by a run, the undo does nothing and exits 2, not 0."""
    with configured(tmp_path, store_path) as (sandbox, config):
        assert invoke(config, "run").exit_code == 0
        sandbox.reset_stats()
        with holding_the_run_lock(config):
            result = invoke(config, "clean")
        assert result.exit_code == 2
        assert HELD.match(result.stderr.removeprefix("jira-pm: error: "))
        assert "clean again" in result.stderr
        assert sandbox.stats()["total"] == 0
        assert sandbox.labels("ABC-1") == ["backend", "pm-overdue"]


def test_run_reports_a_budget_config_problem_once_and_in_the_json_log(tmp_path, store_path):
    """A [[budget]] on a missing epic is one summary notice and one JSON event; --quiet hides it."""
    with configured(tmp_path, store_path) as (_, config):
        with config.open("a", encoding="utf-8") as out:
            out.write('[[budget]]\nepic = "ABC-999"\nhours = 10\n')
        log = tmp_path / "runs.jsonl"
        result = invoke(config, "run", "--log-json", str(log))
        assert result.exit_code == 0, result.output
        notices = [line for line in result.output.splitlines() if "ABC-999" in line]
        assert len(notices) == 1 and notices[0].startswith("notice: [[budget]] #1 in ")
        events = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
        problems = [e for e in events if e["event"] == "config-problem"]
        assert len(problems) == 1 and "'ABC-999' is not in the store" in problems[0]["message"]
        quiet = invoke(config, "run", "--quiet")
        assert quiet.exit_code == 0 and quiet.output == ""
        applied = invoke(config, "apply", "--dry-run")
        assert [line for line in applied.stdout.splitlines() if "ABC-999" in line] == notices
