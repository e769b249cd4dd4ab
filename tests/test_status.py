"""`jira-pm status`: last sync, counts per project and open findings, from the store alone."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import responses
from click.testing import CliRunner
from conftest import load_recorded
from pg_support import store_section
from test_sync import FakeJira

from jira_pm.cli import main
from jira_pm.config import load_settings
from jira_pm.mapping import FieldMap, map_issue
from jira_pm.store import connect
from jira_pm.store.issues import save_issues, set_sync_state
from jira_pm.sync import scope_key, sync

CURSOR = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)


def write_config(tmp_path, store):
    path = tmp_path / "jira-pm.toml"
    path.write_text(
        '[jira]\nurl = "https://example.atlassian.net"\n'
        '[scope]\nprojects = ["SP", "TST"]\n'
        + store_section(store),
        encoding="utf-8",
    )
    return path


def test_status_of_a_never_synced_store_says_so(tmp_path, store_path):
    """A fresh store reports no sync yet and zero issues, with exit 0 and no network."""
    config = write_config(tmp_path, store_path)
    connect(load_settings(config).store).close()
    # Nothing registered: any HTTP request would raise ConnectionError.
    with responses.RequestsMock(assert_all_requests_are_fired=True):
        result = CliRunner().invoke(main, ["--config", str(config), "status"])
    assert result.exit_code == 0, result.output
    assert "last sync: never" in result.output
    assert "issues: 0" in result.output


def test_status_shows_the_cursor_counts_per_project_and_open_findings(tmp_path, store_path):
    """After a sync the cursor, per-project counts and the open findings count are shown."""
    config = write_config(tmp_path, store_path)
    settings = load_settings(config)
    conn = connect(settings.store)
    raws = [load_recorded("jirametrics/issue_SP-13_expand_changelog.json"),
            load_recorded("jirametrics/issue_SP-14_expand_changelog.json"),
            load_recorded("jrjc/issue_TST-2_all_expanded.json")]
    save_issues(conn, [map_issue(r, FieldMap()) for r in raws], raws, CURSOR)
    set_sync_state(conn, scope_key(settings), cursor=CURSOR, last_full=CURSOR)
    conn.execute(
        "INSERT INTO findings(fingerprint, rule_id, check_name, subject_type, subject_id, "
        "subject_name, severity, message, evidence, issue_ids, comment_policy, first_seen, "
        "last_seen) VALUES ('f1','OD001','overdue','issue','1','SP-13','high','late','{}','[]',"
        "'once','2026-11-21','2026-11-21')"
    )
    conn.close()
    result = CliRunner().invoke(main, ["--config", str(config), "status"])
    assert result.exit_code == 0, result.output
    assert "last sync cursor: 2026-11-21 09:30 UTC" in result.output  # calendar zone
    assert "  SP: 2" in result.output and "  TST: 1" in result.output
    assert "issues: 3" in result.output
    assert "open findings: 1" in result.output


def test_status_after_an_interrupted_sync_names_the_issue_it_resumes_after(tmp_path, store_path):
    """A sync killed after two pages: status names the last saved id, not "None"."""
    config = tmp_path / "jira-pm.toml"
    config.write_text('[jira]\nurl = "https://jira.example.test"\n[scope]\nprojects = ["PM"]\n'
                      + store_section(store_path), encoding="utf-8")
    settings = load_settings(config)
    jira = FakeJira()
    for issue_id in range(10001, 10011):
        jira.add(issue_id)
    jira.fail_after_pages = 2
    conn = connect(settings.store)
    with pytest.raises(KeyboardInterrupt):
        sync(settings, conn, jira, now=lambda: CURSOR)
    conn.close()
    result = CliRunner().invoke(main, ["--config", str(config), "status"])
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.startswith("interrupted sync:"))
    assert line.startswith("interrupted sync: full sync started 2026-11-21T")  # Jira's clock
    assert line.endswith("; resumes after issue id 10006")
    assert "None" not in result.output


def test_status_describes_parallel_id_ranges_of_an_interrupted_sync(tmp_path):
    """A checkpoint of several id-range chains lists where each unfinished one resumes."""
    from jira_pm.status import resume_point as _resume_point

    checkpoint = {"mode": "full", "started": "2026-11-21T09:30:00+00:00", "chains": [
        {"low": None, "high": 10999, "after": 10500, "done": False},
        {"low": 11000, "high": 11999, "after": None, "done": False},
        {"low": 12000, "high": None, "after": 12999, "done": True},
    ]}
    assert _resume_point(checkpoint) == (
        "full sync started 2026-11-21T09:30:00+00:00; 2 of 3 id ranges left, resuming "
        "after issue id 10500, from issue id 11000")
    done = dict(checkpoint, mode="incremental",
                chains=[{"low": None, "high": None, "after": 7, "done": True}])
    assert _resume_point(done) == ("incremental sync started 2026-11-21T09:30:00+00:00; "
                                   "resumes with its last steps (all issue pages are saved)")
    fresh = {"mode": "full", "chains": [{"low": None, "high": None, "after": None,
                                         "done": False}]}
    assert _resume_point(fresh) == "full sync; resumes from the start"


def constructed_store(tmp_path, store):
    """A synced store with a last sync, two runs, open and resolved findings and a stuck write."""
    from jira_pm.store import ledger
    from jira_pm.store.sync_state import set_meta

    config = tmp_path / "jira-pm.toml"
    config.write_text('[jira]\nurl = "https://example.atlassian.net"\n[scope]\nprojects = ["SP"]\n'
                      + store_section(store) + '[calendar]\ntimezone = "Europe/Berlin"\n',
                      encoding="utf-8")
    settings = load_settings(config)
    conn = connect(settings.store)
    set_sync_state(conn, scope_key(settings), cursor=CURSOR, last_full=CURSOR,
                   last_reconcile=CURSOR)
    set_meta(conn, "deployment", "cloud")
    set_meta(conn, "last_sync", {"mode": "incremental", "finished": "2026-11-21T09:31:05+00:00",
                                 "issues": 1})
    for fp, rule, severity, resolved in [("f1", "OD001", "high", None),
                                         ("f2", "OD001", "medium", None),
                                         ("f3", "SC001", "medium", None),
                                         ("f4", "BU001", "critical", "2026-11-20")]:
        conn.execute(
            "INSERT INTO findings(fingerprint, rule_id, check_name, subject_type, subject_id, "
            "subject_name, severity, message, evidence, issue_ids, comment_policy, first_seen, "
            "last_seen, resolved_at) VALUES (?, ?, 'c', 'issue', '1', 'SP-1', ?, 'm', '{}', '[]',"
            " 'once', '2026-11-21', '2026-11-21', ?)", (fp, rule, severity, resolved))
    conn.execute("INSERT INTO runs VALUES ('r1', 'run', '2026-11-21T08:00:00+00:00', "
                 "'2026-11-21T08:00:30+00:00', 'ok', '{}')")
    conn.execute("INSERT INTO runs VALUES ('r2', 'run', '2026-11-21T09:31:00+00:00', "
                 "'2026-11-21T09:31:20+00:00', 'partial', '{\"writes_done\": 4, "
                 "\"writes_failed\": 1, \"writes_deferred\": 2, \"writes_skipped\": 0}')")
    conn.execute("INSERT INTO label_loops VALUES (10, '+pm-overdue', 'SP-13', 'OD001', 3, "
                 "'2026-11-21T08:00:10+00:00', '2026-11-21T09:01:10+00:00', 'r1', "
                 "'2026-11-21T09:31:10+00:00')")
    assert ledger.loop_records(conn, stuck_only=True)
    conn.close()
    return config


def test_status_text_names_last_sync_last_run_findings_by_severity_and_rule_and_stuck_writes(
        tmp_path, store_path):
    """The whole status text of a constructed store, times in the calendar zone."""
    config = constructed_store(tmp_path, store_path)
    result = CliRunner().invoke(main, ["--config", str(config), "status"], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1:] == [
        "site: https://example.atlassian.net (cloud)",
        "last sync: incremental, 2026-11-21 10:31 CET, 1 issue",
        "last sync cursor: 2026-11-21 10:30 CET",
        "last full sync: 2026-11-21 10:30 CET",
        "last reconcile: 2026-11-21 10:30 CET",
        "issues: 0",
        "versions: 0, sprints: 0",
        "last run: run r2, 2026-11-21 10:31 CET, partial; writes 4 done, 1 failed, 2 deferred",
        "open findings: 3",
        "  by severity: high 1, medium 2",
        "  by rule: OD001 2, SC001 1",
        "stuck: 1 label change not sent until cleared with `jira-pm unstick KEY`",
        "  SP-13 add pm-overdue (OD001): sent on 3 runs, undone each time; stuck since "
        "2026-11-21 10:31 CET",
    ]


def test_status_json_has_every_documented_field(tmp_path, store_path):
    """`status --format json`: each field of the documented document, for a constructed store."""
    config = constructed_store(tmp_path, store_path)
    result = CliRunner().invoke(main, ["--config", str(config), "status", "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document.pop("store") == load_settings(config).store_name
    assert document == {
        "version": 1,
        "store_exists": True,
        "site": "https://example.atlassian.net",
        "deployment": "cloud",
        "scope": None,
        "last_sync": {"mode": "incremental", "finished": "2026-11-21T09:31:05+00:00",
                      "issues": 1},
        "sync_cursor": "2026-11-21T09:30:00+00:00",
        "last_full_sync": "2026-11-21T09:30:00+00:00",
        "last_reconcile": "2026-11-21T09:30:00+00:00",
        "interrupted_sync": None,
        "full_sync_pending": False,
        "full_sync_reason": None,
        "issues": {"total": 0, "by_project": {}},
        "versions": 0,
        "sprints": 0,
        "last_run": {"run_id": "r2", "kind": "run", "started": "2026-11-21T09:31:00+00:00",
                     "finished": "2026-11-21T09:31:20+00:00", "outcome": "partial",
                     "writes_done": 4, "writes_failed": 1, "writes_deferred": 2,
                     "writes_skipped": 0, "error": None},
        "findings": {"open": 3, "by_severity": {"high": 1, "medium": 2},
                     "by_rule": {"OD001": 2, "SC001": 1}},
        "stuck_writes": [{"issue_key": "SP-13", "issue_id": 10, "change": "+pm-overdue",
                          "label": "pm-overdue", "action": "add", "rule_id": "OD001",
                          "runs": 3, "first_sent": "2026-11-21T08:00:10+00:00",
                          "last_sent": "2026-11-21T09:01:10+00:00",
                          "stuck_at": "2026-11-21T09:31:10+00:00"}],
    }


def test_status_json_without_a_store_creates_none(tmp_path, store_path):
    """`status --format json` where no store exists: store_exists false, and no file made."""
    config = write_config(tmp_path, store_path)
    result = CliRunner().invoke(main, ["--config", str(config), "status", "--format", "json"])
    document = json.loads(result.output)
    assert document["store_exists"] is False and document["full_sync_pending"] is True
    assert document["last_run"] is None and document["stuck_writes"] == []
    assert not store_path.exists()


def test_status_names_the_scope_the_store_holds_and_a_config_of_another(tmp_path, store_path):
    """status says which scope the store holds, and when this config's scope is another."""
    jira = FakeJira()
    jira.add(10001, project="SP")
    config = write_config(tmp_path, store_path)
    conn = connect(load_settings(config).store)
    sync(load_settings(config), conn, jira)
    conn.close()
    result = CliRunner().invoke(main, ["--config", str(config), "status"])
    assert "scope: projects SP, TST\n" in result.output
    result = CliRunner().invoke(main, ["--config", str(config), "status", "--format", "json"])
    assert json.loads(result.output)["scope"] == {"projects": ["SP", "TST"], "jql": ""}
    config.write_text(config.read_text(encoding="utf-8").replace('["SP", "TST"]', '["OPS"]'),
                      encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(config), "status"])
    assert result.exit_code == 0, result.output
    assert ("scope: projects SP, TST (not this config's projects OPS: see "
            "`jira-pm sync --new-scope`)") in result.output
