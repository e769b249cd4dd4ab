"""`jira-pm status`: last sync, counts per project and open findings, from the store alone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import responses
from click.testing import CliRunner
from conftest import load_recorded
from test_sync import FakeJira

from jira_pm.cli import main
from jira_pm.config import load_settings
from jira_pm.mapping import FieldMap, map_issue
from jira_pm.store import connect
from jira_pm.store.issues import save_issues, set_sync_state
from jira_pm.sync import scope_key, sync

CURSOR = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)


def write_config(tmp_path):
    path = tmp_path / "jira-pm.toml"
    path.write_text(
        '[jira]\nurl = "https://example.atlassian.net"\n'
        '[scope]\nprojects = ["SP", "TST"]\n'
        '[store]\npath = "store.sqlite"\n',
        encoding="utf-8",
    )
    return path


def test_status_of_a_never_synced_store_says_so(tmp_path):
    """A fresh store reports no sync yet and zero issues, with exit 0 and no network."""
    config = write_config(tmp_path)
    connect(load_settings(config).store_path).close()
    # Nothing registered: any HTTP request would raise ConnectionError.
    with responses.RequestsMock(assert_all_requests_are_fired=True):
        result = CliRunner().invoke(main, ["--config", str(config), "status"])
    assert result.exit_code == 0, result.output
    assert "last sync: never" in result.output
    assert "issues: 0" in result.output


def test_status_shows_the_cursor_counts_per_project_and_open_findings(tmp_path):
    """After a sync the cursor, per-project counts and the open findings count are shown."""
    config = write_config(tmp_path)
    settings = load_settings(config)
    conn = connect(settings.store_path)
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
    assert "last sync cursor: 2026-11-21T09:30:00+00:00" in result.output
    assert "  SP: 2" in result.output and "  TST: 1" in result.output
    assert "issues: 3" in result.output
    assert "open findings: 1" in result.output


def test_status_after_an_interrupted_sync_names_the_issue_it_resumes_after(tmp_path):
    """A sync killed after two pages: status names the last saved id, not "None"."""
    config = tmp_path / "jira-pm.toml"
    config.write_text('[jira]\nurl = "https://jira.example.test"\n[scope]\nprojects = ["PM"]\n'
                      '[store]\npath = "store.sqlite"\n', encoding="utf-8")
    settings = load_settings(config)
    jira = FakeJira()
    for issue_id in range(10001, 10011):
        jira.add(issue_id)
    jira.fail_after_pages = 2
    conn = connect(settings.store_path)
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
    from jira_pm.cli.status_cmd import _resume_point

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
