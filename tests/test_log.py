"""`jira-pm log`: the ledger per run as a table that fits the terminal, and as stable JSON."""
# ruff: noqa: E501  (the 120-column snapshot is wider than the code)

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from pg_support import store_section

from jira_pm.cli import main
from jira_pm.errors import UsageError
from jira_pm.store import connect
from jira_pm.writeback.log_view import parse_since

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def write_config(tmp_path, store):
    path = tmp_path / "jira-pm.toml"
    path.write_text('[jira]\nurl = "https://example.atlassian.net"\n[scope]\nprojects = ["ABC"]\n'
                    + store_section(store) + '[calendar]\ntimezone = "Europe/Berlin"\n',
                    encoding="utf-8")
    return path


def _run(conn, run_id, started, finished, outcome, summary="{}"):
    conn.execute("INSERT INTO runs (id, kind, started, finished, outcome, summary) VALUES "
                 "(?, 'run', ?, ?, ?, ?)", (run_id, started, finished, outcome, summary))


def _write(conn, run_id, at, key, operation, status, label=None, rule=None, http=None,
           detail=None):
    conn.execute("INSERT INTO ledger (run_id, at, issue_id, issue_key, operation, label, rule_id,"
                 " status, http_status, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 (run_id, at, int(key.split("-")[1]), key, operation, label, rule, status, http,
                  detail))


def ledger_store(tmp_path, store):
    """Two finished runs (one partial) and one killed mid-write, in a store beside a config."""
    config = write_config(tmp_path, store)
    conn = connect(store)
    _run(conn, "aaaa11112222", "2026-11-20T08:00:01+00:00", "2026-11-20T08:00:09+00:00", "ok",
         '{"writes_done": 2}')
    _write(conn, "aaaa11112222", "2026-11-20T08:00:05+00:00", "ABC-1", "labels", "done",
           "+pm-overdue", "OD001",
           detail="add pm-overdue: version 1.0 is 10 working days past its release date")
    _write(conn, "aaaa11112222", "2026-11-20T08:00:06+00:00", "ABC-1", "comment", "done",
           rule="OD001", detail="new finding: version 1.0 is overdue")
    _run(conn, "bbbb33334444", "2026-11-20T23:59:00+00:00", "2026-11-21T00:01:00+00:00",
         "partial")
    _write(conn, "bbbb33334444", "2026-11-21T00:00:30+00:00", "ABC-12", "labels", "failed",
           "+pm-scope-creep -pm-at-risk", "SC001", 403,
           "Jira refused: You do not have permission to edit issues in this project.")
    _run(conn, "cccc55556666", "2026-11-21T09:00:00+00:00", None, None)
    _write(conn, "cccc55556666", "2026-11-21T09:00:02+00:00", "ABC-5", "labels", "pending",
           "+pm-over-estimate", "BU004")
    conn.close()
    return config


EXPECTED_120 = """\
run aaaa11112222  2026-11-20 09:00 CET  ok: 2 writes (2 done)
  09:00  ABC-1   +pm-overdue                  OD001  done         add pm-overdue: version 1.0 is 10 working days past
                                                                  its release date
  09:00  ABC-1   comment                      OD001  done         new finding: version 1.0 is overdue
run bbbb33334444  2026-11-21 00:59 CET  partial: 1 write (1 failed)
  01:00  ABC-12  +pm-scope-creep -pm-at-risk  SC001  failed 403   Jira refused: You do not have permission to edit
                                                                  issues in this project.
run cccc55556666  2026-11-21 10:00 CET  interrupted: 1 write (1 interrupted)
  10:00  ABC-5   +pm-over-estimate            BU004  interrupted
"""

EXPECTED_80 = """\
run aaaa11112222  2026-11-20 09:00 CET  ok: 2 writes (2 done)
  09:00  ABC-1   +pm-overdue                  OD001  done
      add pm-overdue: version 1.0 is 10 working days past its release date
  09:00  ABC-1   comment                      OD001  done
      new finding: version 1.0 is overdue
run bbbb33334444  2026-11-21 00:59 CET  partial: 1 write (1 failed)
  01:00  ABC-12  +pm-scope-creep -pm-at-risk  SC001  failed 403
      Jira refused: You do not have permission to edit issues in this project.
run cccc55556666  2026-11-21 10:00 CET  interrupted: 1 write (1 interrupted)
  10:00  ABC-5   +pm-over-estimate            BU004  interrupted
"""


@pytest.mark.parametrize("columns,expected", [(120, EXPECTED_120), (80, EXPECTED_80)])
def test_log_table_lists_each_run_and_its_writes_within_the_terminal_width(
        tmp_path, store_path, columns, expected):
    """Runs with outcome and counts, writes with local times and keys; nothing past the width."""
    config = ledger_store(tmp_path, store_path)
    result = CliRunner().invoke(main, ["--config", str(config), "log"],
                                env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    assert result.output == expected
    assert max(len(line) for line in result.output.splitlines()) <= columns


def test_log_of_a_killed_run_shows_its_pending_writes_as_interrupted_only_when_no_run_holds_the_lock(
        tmp_path, store_path):
    """While a run holds the lock its pending write is pending; once none does, interrupted."""
    from jira_pm.store.locks import run_lock

    config = ledger_store(tmp_path, store_path)
    with run_lock(store_path, "busy", ""):
        result = CliRunner().invoke(main, ["--config", str(config), "log", "--run", "cccc"],
                                    env={"COLUMNS": "120"})
    assert result.output.splitlines() == [
        "run cccc55556666  2026-11-21 10:00 CET  still running: 1 write (1 pending)",
        "  10:00  ABC-5  +pm-over-estimate  BU004  pending"]


def test_log_json_has_every_documented_field(tmp_path, store_path):
    """--format json: version, runs (outcome and counts), writes (labels split), stuck."""
    config = ledger_store(tmp_path, store_path)
    result = CliRunner().invoke(main, ["--config", str(config), "log", "--issue", "ABC-12",
                                       "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        "version": 1,
        "runs": [{"run_id": "bbbb33334444", "kind": "run", "started": "2026-11-20T23:59:00+00:00",
                  "finished": "2026-11-21T00:01:00+00:00", "outcome": "partial",
                  "writes_done": None, "writes_failed": None, "writes_deferred": None,
                  "writes_skipped": None, "error": None}],
        "writes": [{"id": 3, "run_id": "bbbb33334444", "at": "2026-11-21T00:00:30+00:00",
                    "issue_key": "ABC-12", "issue_id": 12, "operation": "labels",
                    "labels_added": ["pm-scope-creep"], "labels_removed": ["pm-at-risk"],
                    "rule_id": "SC001", "fingerprint": None, "comment_id": None,
                    "status": "failed", "http_status": 403,
                    "detail": "Jira refused: You do not have permission to edit issues in this "
                              "project."}],
        "stuck": [],
    }


def test_log_since_keeps_the_runs_started_since(tmp_path, store_path):
    """--since 2026-11-21 (midnight in Berlin) keeps the runs started that day there."""
    config = ledger_store(tmp_path, store_path)
    result = CliRunner().invoke(main, ["--config", str(config), "log", "--since", "2026-11-21",
                                       "--format", "json"])
    assert [r["run_id"] for r in json.loads(result.output)["runs"]] == [
        "bbbb33334444", "cccc55556666"]


def test_log_of_an_unknown_run_is_a_usage_error(tmp_path, store_path):
    """--run with an id the ledger lacks: one line, exit 2."""
    config = ledger_store(tmp_path, store_path)
    result = CliRunner().invoke(main, ["--config", str(config), "log", "--run", "ffff"])
    assert result.exit_code == 2
    assert "no run 'ffff' in the ledger" in result.stderr


@pytest.mark.parametrize("text,expected", [
    ("2h", datetime(2026, 11, 21, 10, 0, tzinfo=UTC)),
    ("3d", datetime(2026, 11, 18, 12, 0, tzinfo=UTC)),
    ("90m", datetime(2026, 11, 21, 10, 30, tzinfo=UTC)),
    ("2026-11-20", datetime(2026, 11, 19, 23, 0, tzinfo=UTC)),
    ("2026-11-20T09:30", datetime(2026, 11, 20, 8, 30, tzinfo=UTC)),
    ("2026-11-20T09:30:00+00:00", datetime(2026, 11, 20, 9, 30, tzinfo=UTC)),
])
def test_since_accepts_ages_dates_and_date_times_in_the_calendar_zone(text, expected):
    """Ages count back from now; dates and naive date-times are in the configured zone."""
    from zoneinfo import ZoneInfo

    assert parse_since(text, ZoneInfo("Europe/Berlin"), NOW) == expected


def test_since_refuses_anything_else():
    """A --since that is no age, date or date-time is a usage error naming the forms."""
    with pytest.raises(UsageError, match="neither an age"):
        parse_since("yesterday", UTC, NOW)


def test_a_summary_cut_short_points_at_jira_pm_log_for_its_run():
    """Past the line limit, apply's summary names `jira-pm log --run ID`, not "the ledger"."""
    from jira_pm.runner import writeback_lines
    from jira_pm.writeback.apply import Outcome
    from jira_pm.writeback.from_store import WritebackResult
    from jira_pm.writeback.plan import LabelWrite, Plan, Reason

    writes = [LabelWrite(i, f"ABC-{i}", ("pm-overdue",), (),
                         (Reason("pm-overdue", "add", "OD001", "fp", "late"),), 3)
              for i in range(1, 6)]
    plan = Plan(writes=writes)
    real = writeback_lines(WritebackResult(plan, Outcome("abc123def456", done=writes)), limit=3)
    assert real[-1] == "  ... and 2 more (`jira-pm log --run abc123def456` lists them all)"
    dry = writeback_lines(WritebackResult(plan, None), dry_run=True, limit=3)
    assert dry[-1] == "  ... and 2 more (`jira-pm apply --dry-run` lists them all)"
