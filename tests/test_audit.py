"""`jira-pm audit` and `jira-pm rules list|explain` through the click command line."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner
from pg_support import store_section

from jira_pm.checks.testing import at, day, issue, worklog
from jira_pm.cli import main
from jira_pm.model import Version
from jira_pm.rulepack import load_pack
from jira_pm.store import connect
from jira_pm.store.issues import save_issues, save_versions

CONFIG = """
[jira]
url = "https://example.atlassian.net"
[scope]
projects = ["ABC", "OPS"]
[store]
path = "store.sqlite"
[calendar]
timezone = "Europe/Berlin"
"""


def config_for(store) -> str:
    """CONFIG on ``store`` (the ``store_path`` fixture: a SQLite file or a PostgreSQL URL)."""
    return CONFIG.replace('[store]\npath = "store.sqlite"\n', store_section(store))


@pytest.fixture
def workdir(tmp_path, monkeypatch, store_path):
    """A folder with a config and a store holding a late version, a late issue and an overrun."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("JIRA_PM_CONFIG", raising=False)
    (tmp_path / "jira-pm.toml").write_text(config_for(store_path), encoding="utf-8")
    conn = connect(store_path)
    issues = [
        issue(1, fix_version_ids=(50,)),
        issue(2, project="OPS", due_date=day("2026-04-01")),
        issue(3, original_estimate_seconds=3600, worklogs=[worklog(3, 2)]),
    ]
    save_issues(conn, issues, {i.id: {"id": str(i.id)} for i in issues}, at("2026-04-13"))
    save_versions(conn, [Version(50, "ABC", "2.0", None, day("2026-04-01"), False, False,
                                 first_seen=at("2026-03-01"))])
    conn.close()
    return tmp_path


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_audit_of_a_store_that_was_never_synced_is_a_usage_error(tmp_path, monkeypatch,
                                                                 store_path):
    """With no store file, or an empty never-synced one, audit exits 2 and creates nothing."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("JIRA_PM_CONFIG", raising=False)
    (tmp_path / "jira-pm.toml").write_text(config_for(store_path), encoding="utf-8")
    missing = CliRunner().invoke(main, ["audit", "--fail-on", "high"])
    assert missing.exit_code == 2
    assert "has never been synced" in missing.stderr and "jira-pm sync" in missing.stderr
    assert not store_path.exists()
    connect(store_path).close()
    empty = CliRunner().invoke(main, ["audit"])
    assert empty.exit_code == 2 and "has never been synced" in empty.stderr


def test_audit_json_lists_findings_and_marks_them_new_then_open(workdir):
    """A first audit reports every finding as new; the next one as still open."""
    first = run("audit", "--format", "json")
    assert first.exit_code == 0, first.output
    data = json.loads(first.output)
    assert [(f["rule_id"], f["subject"], f["status"]) for f in data["findings"]] == [
        ("OD001", "2.0", "new"), ("OD002", "OPS-2", "new"), ("BU004", "ABC-3", "new"),
    ]
    assert data["findings"][2]["evidence"]["over_fraction"] == 1.0
    second = json.loads(run("audit", "--format", "json").output)
    assert {f["status"] for f in second["findings"]} == {"open"}


def test_audit_filters_by_project_rule_and_severity(workdir):
    """--project, --rule and --severity narrow what is shown."""
    by_project = json.loads(run("audit", "--format", "json", "--project", "OPS").output)
    assert [f["rule_id"] for f in by_project["findings"]] == ["OD002"]
    by_rule = json.loads(run("audit", "--format", "json", "--rule", "BU004").output)
    assert [f["subject"] for f in by_rule["findings"]] == ["ABC-3"]
    severe = json.loads(run("audit", "--format", "json", "--severity", "high").output)
    assert [f["rule_id"] for f in severe["findings"]] == ["OD001"]


def test_fail_on_exits_one_only_at_or_above_the_severity(workdir):
    """--fail-on high exits 1 (OD001 is high); --fail-on critical exits 0."""
    assert run("audit", "--fail-on", "high").exit_code == 1
    assert run("audit", "--fail-on", "critical").exit_code == 0
    assert run("audit", "--fail-on", "high", "--project", "OPS").exit_code == 0


def test_fail_on_names_the_findings_that_caused_exit_one(workdir):
    """When --fail-on exits 1, stderr says which findings reached the severity; stdout stays."""
    result = run("audit", "--format", "json", "--fail-on", "medium")
    assert result.exit_code == 1
    json.loads(result.stdout)
    assert result.stderr.splitlines() == [
        "jira-pm: exit 1 because of 2 findings at or above --fail-on medium:",
        "  high OD001 version 2.0 (ABC)",
        "  medium OD002 issue OPS-2 (OPS)",
    ]
    assert run("audit", "--fail-on", "critical").stderr == ""


def test_table_width_comes_from_columns_else_a_default_for_pipes(workdir, monkeypatch):
    """$COLUMNS sets the table's width; output that is no terminal gets 100 columns."""
    monkeypatch.setenv("COLUMNS", "60")
    narrow = run("audit", "--no-record").output
    assert max(len(line) for line in narrow.splitlines()) <= 60
    monkeypatch.delenv("COLUMNS")
    piped = run("audit", "--no-record").output
    widest = max(len(line) for line in piped.splitlines())
    assert 60 < widest <= 100


def test_as_of_evaluates_another_day_without_recording(workdir):
    """--as-of before the due dates finds nothing and leaves the store's findings alone."""
    run("audit")
    early = json.loads(run("audit", "--format", "json", "--as-of", "2026-03-01").output)
    assert [f["rule_id"] for f in early["findings"]] == ["OD003", "BU004"]
    again = json.loads(run("audit", "--format", "json").output)
    assert {f["status"] for f in again["findings"]} == {"open"}


def test_table_csv_and_markdown_outputs(workdir):
    """Every format names each finding; CSV parses with the evidence column."""
    table = run("audit").output
    assert "OD001" in table and "Version ABC '2.0'" in table and "3 findings: 3 new" in table
    rows = list(csv.DictReader(io.StringIO(run("audit", "--format", "csv").output)))
    assert [r["rule_id"] for r in rows] == ["OD001", "OD002", "BU004"]  # most severe first
    assert rows[0]["evidence.unresolved_keys"] == "ABC-1" and rows[0]["issue_keys"] == "ABC-1"
    markdown = run("audit", "--format", "markdown").output
    assert markdown.startswith("# jira-pm audit") and "| high | OD001 |" in markdown


def test_the_table_reads_no_names_from_the_store_and_shows_the_same(workdir, monkeypatch):
    """The table, which names no issue or person, is built without the store's keys and names."""
    from jira_pm import report

    full = run("audit", "--no-record").output
    made = []
    real = report.lookup_from_store

    def spy(conn, settings, **kw):
        made.append(real(conn, settings, **kw))
        return made[-1]

    monkeypatch.setattr(report, "lookup_from_store", spy)
    assert run("audit", "--no-record").output == full
    assert "ABC-1" in run("audit", "--no-record", "--format", "csv").output
    table, csv_lookup = made
    assert not table.issue_keys and not table.people and str(table.zone) == "Europe/Berlin"
    assert csv_lookup.issue_keys[1] == "ABC-1"


def test_bad_rules_folder_is_one_line_and_exit_two(workdir):
    """A broken rule file given with --rules fails with one line naming it, exit 2."""
    folder = workdir / "rules"
    folder.mkdir()
    (folder / "x.toml").write_text('[[rule]]\nid = "X1"\ncheck = "nope"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["audit", "--rules", str(folder)])
    assert result.exit_code == 2
    assert "x.toml: rule X1: key 'check'" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_unknown_rule_filter_is_a_usage_error(workdir):
    """--rule with an id the pack lacks exits 2 and says how to list rules."""
    result = CliRunner().invoke(main, ["audit", "--rule", "ZZ999"])
    assert result.exit_code == 2 and "rules list" in result.output


@pytest.fixture
def empty_folder(tmp_path, monkeypatch):
    """A folder without any config file."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("JIRA_PM_CONFIG", raising=False)
    return tmp_path


def test_rules_list_works_without_a_config(empty_folder):
    """`rules list` shows every built-in rule from a folder with no config file."""
    result = run("rules", "list")
    assert result.exit_code == 0
    for rule in load_pack(None).rules:
        assert rule.id in result.output and rule.label in result.output


def test_rules_explain_prints_each_rules_documentation(empty_folder):
    """`rules explain ID` prints the check's documentation and the rule's settings."""
    for rule in load_pack(None).rules:
        result = run("rules", "explain", rule.id)
        assert result.exit_code == 0
        for heading in ("What it flags:", "Why it matters:", "How it is computed:",
                        "Configuration:", "Example:", "This rule:"):
            assert heading in result.output, (rule.id, heading)
        assert f"label = {rule.label}" in result.output
    missing = CliRunner().invoke(main, ["rules", "explain", "NOPE1"])
    assert missing.exit_code == 2 and "rules list" in missing.output


def test_rules_list_reads_the_config_named_by_jira_pm_config(empty_folder, monkeypatch):
    """With no ./jira-pm.toml, `rules list` uses $JIRA_PM_CONFIG's [rules] (a disabled rule)."""
    rule_id = sorted(rule.id for rule in load_pack(None).rules)[0]
    config = empty_folder / "elsewhere" / "pm.toml"
    config.parent.mkdir()
    config.write_text(CONFIG + f'[rules]\ndisabled = ["{rule_id}"]\n', encoding="utf-8")
    monkeypatch.setenv("JIRA_PM_CONFIG", str(config))
    result = run("rules", "list")
    assert result.exit_code == 0
    row = next(line for line in result.output.splitlines() if line.startswith(rule_id + " "))
    assert row.split()[1] == "no"


def test_audit_shows_a_budget_config_problem_once_on_stderr(workdir):
    """A [[budget]] on a missing epic is one `notice:` line on stderr; the JSON stays clean."""
    config = workdir / "jira-pm.toml"
    budget = '[[budget]]\nepic = "ABC-999"\nhours = 10\n'
    config.write_text(config.read_text(encoding="utf-8") + budget, encoding="utf-8")
    result = run("audit", "--format", "json")
    assert result.exit_code == 0
    json.loads(result.stdout)
    notices = [line for line in result.stderr.splitlines() if line]
    assert len(notices) == 1
    assert notices[0].startswith(f"jira-pm: notice: [[budget]] #1 in {config.resolve()}: "
                                 "epic = 'ABC-999' is not in the store")
