"""Every built-in rule's comment, on findings synced from a generated sandbox site, in both formats.

The snapshots in tests/snapshots/comments/ are the comments as a Jira user
reads them. Regenerate after an intended change with
``JIRA_PM_UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/test_comments_sandbox.py`` and read the diff.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import BACKENDS
from pg_support import wide_store

from jira_pm.config import Settings
from jira_pm.engine import evaluate_store
from jira_pm.jira.client import JiraClient
from jira_pm.jira.format import find_markers, plain_text, to_adf, to_wiki
from jira_pm.rulepack import load_pack
from jira_pm.runner import run_pipeline
from jira_pm.sandbox.adf import adf_problem
from jira_pm.sandbox.server import Sandbox
from jira_pm.store.schema import connect
from jira_pm.writeback.comments import BUILT_IN_CHECKS, finding_comment
from jira_pm.writeback.store_io import comment_lookups, issue_states

pytestmark = pytest.mark.integration

SNAPSHOTS = Path(__file__).parent / "snapshots" / "comments"
NOW = datetime(2026, 3, 18, 10, 0, tzinfo=UTC)
SITE_URL = "https://jira.example.test"  # the sandbox's port changes: links use a fixed site


def _log(author: str, spent: str, started: str = "2026-03-03T09:00:00Z") -> dict:
    return {"author": author, "started": started, "spent": spent}


# One project where every built-in rule finds something (Europe/Berlin, Wednesday 18 March).
SCENARIO = {
    "now": "2026-03-18T10:00:00Z",
    "timezone": "Europe/Berlin",
    "users": [{"name": "ana", "display": "Ana Lopez"}, {"name": "ben", "display": "Ben Okafor"},
              {"name": "cy", "display": "Cy Tran"}, {"name": "di", "display": "Di Berg"},
              {"name": "ed", "display": "Ed Park"}],
    "projects": [{"key": "ABC", "name": "Alpha"}],
    "versions": [
        {"project": "ABC", "name": "1.0", "start": "2026-02-02", "release": "2026-03-06"},
        {"project": "ABC", "name": "1.1", "start": "2026-03-02", "release": "2026-03-27"},
    ],
    "sprints": [{"name": "ABC Sprint 3", "state": "active", "start": "2026-03-09T08:00:00Z",
                 "end": "2026-03-20T16:00:00Z"}],
    "issues": [
        # release 1.0: late, two of three issues open
        {"key": "ABC-1", "type": "Story", "status": "In Progress", "fix_versions": ["1.0"],
         "created": "2026-02-03T09:00:00Z"},
        {"key": "ABC-2", "type": "Bug", "status": "To Do", "fix_versions": ["1.0"],
         "created": "2026-02-03T09:00:00Z"},
        {"key": "ABC-3", "type": "Story", "status": "Done", "fix_versions": ["1.0"],
         "created": "2026-02-03T09:00:00Z", "history": [
             {"at": "2026-03-04T15:00:00Z", "author": "ana", "items": [
                 {"field": "status", "from": "To Do", "to": "Done"},
                 {"field": "resolution", "from": "", "to": "Done"}]}]},
        # release 1.1: at risk, and ABC-5 added after its start
        {"key": "ABC-4", "type": "Story", "status": "To Do", "points": 5,
         "fix_versions": ["1.1"], "created": "2026-02-20T09:00:00Z"},
        {"key": "ABC-5", "type": "Story", "status": "To Do", "points": 3,
         "fix_versions": ["1.1"], "created": "2026-02-20T09:00:00Z", "history": [
             {"at": "2026-03-10T10:00:00Z", "author": "ben", "field": "Fix Version",
              "from": "", "to": "1.1"}]},
        # sprint 3: ABC-7 added, ABC-6 re-estimated
        {"key": "ABC-6", "type": "Story", "status": "In Progress", "points": 8,
         "sprints": ["ABC Sprint 3"], "created": "2026-03-05T09:00:00Z", "history": [
             {"at": "2026-03-12T13:30:00Z", "author": "ben", "field": "Story Points",
              "from": "5", "to": "8"}]},
        {"key": "ABC-7", "type": "Story", "status": "To Do", "points": 2,
         "sprints": ["ABC Sprint 3"], "created": "2026-03-05T09:00:00Z", "history": [
             {"at": "2026-03-11T10:00:00Z", "author": "ana", "field": "Sprint", "from": "",
              "to": "ABC Sprint 3"}]},
        # epic ABC-10: in progress since 2 March, ABC-12 created into it later; over budget
        {"key": "ABC-10", "type": "Epic", "status": "In Progress",
         "created": "2026-02-20T09:00:00Z", "history": [
             {"at": "2026-03-02T09:00:00Z", "author": "ana", "field": "status",
              "from": "To Do", "to": "In Progress"}]},
        {"key": "ABC-11", "type": "Story", "status": "In Progress", "points": 5,
         "epic": "ABC-10", "created": "2026-02-25T09:00:00Z",
         "worklogs": [_log("ana", "20h"), _log("ben", "12h"), _log("cy", "6h"),
                      _log("di", "5h"), _log("ed", "3h")]},
        {"key": "ABC-12", "type": "Story", "status": "To Do", "points": 3, "epic": "ABC-10",
         "created": "2026-03-10T09:00:00Z", "reporter": "ben"},
        # epic ABC-20: 85% of its budget; epic ABC-30: forecast over its budget
        {"key": "ABC-20", "type": "Epic", "status": "To Do", "created": "2026-02-20T09:00:00Z"},
        {"key": "ABC-21", "type": "Task", "status": "In Progress", "epic": "ABC-20",
         "created": "2026-02-20T09:00:00Z", "worklogs": [_log("ana", "34h")]},
        {"key": "ABC-30", "type": "Epic", "status": "To Do", "created": "2026-02-20T09:00:00Z"},
        {"key": "ABC-31", "type": "Task", "status": "In Progress", "epic": "ABC-30",
         "created": "2026-02-20T09:00:00Z", "original_estimate": "50h",
         "remaining_estimate": "30h", "worklogs": [_log("ben", "20h")]},
        # ABC-40 past its due date; ABC-41 over its estimate
        {"key": "ABC-40", "type": "Task", "status": "In Progress", "due": "2026-03-12",
         "created": "2026-02-20T09:00:00Z"},
        {"key": "ABC-41", "type": "Task", "status": "In Progress", "original_estimate": "8h",
         "remaining_estimate": "2h", "created": "2026-02-20T09:00:00Z",
         "worklogs": [_log("cy", "14h")]},
    ],
}

BUDGETS = [{"epic": "ABC-10", "hours": 40}, {"epic": "ABC-20", "hours": 40},
           {"epic": "ABC-30", "hours": 40}]


@pytest.fixture(scope="module", params=BACKENDS)
def synced(request, tmp_path_factory):
    """Findings and lookups of the scenario, synced from a Cloud sandbox into a store
    (of each backend: the comments read the store's issues, people and ledger)."""
    folder = tmp_path_factory.mktemp("comments")
    with wide_store(request, request.param, folder) as store:
        with Sandbox("cloud", scenario=SCENARIO) as sandbox:
            login = sandbox.credentials("admin")
            settings = Settings.for_tests(
                url=sandbox.url, projects=["ABC"], store_path=store,
                jira={"deployment": "cloud", "email": login["email"],
                      "api_token": login["api_token"]},
                calendar={"timezone": "Europe/Berlin"}, budget=BUDGETS)
            run_pipeline(settings, JiraClient.from_settings(settings.jira), dry_run=True,
                         as_of=NOW)
        conn = connect(settings.store)
        try:
            findings = evaluate_store(conn, settings, load_pack(settings), NOW,
                                      record=False).findings
            lookups = replace(comment_lookups(conn, settings, issue_states(conn)),
                              site_url=SITE_URL)
        finally:
            conn.close()
        yield findings, lookups


def _comments(synced):
    """rule id -> the comment on the first issue its finding labels."""
    findings, lookups = synced
    out = {}
    for finding in findings:
        if finding.rule_id in out or not finding.issue_ids:
            continue
        key = lookups.keys[finding.issue_ids[-1]]
        out[finding.rule_id] = finding_comment(finding, key, "pm-ignore", lookups)
    return out


def _check_snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("JIRA_PM_UPDATE_SNAPSHOTS"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"no snapshot {path}: run with JIRA_PM_UPDATE_SNAPSHOTS=1"
    assert text == path.read_text(encoding="utf-8")


def test_every_built_in_rule_is_found_on_the_generated_site(synced):
    """The scenario gives every built-in check a finding, so every rule's comment is snapshotted."""
    findings, _ = synced
    assert {f.check for f in findings} == BUILT_IN_CHECKS


@pytest.mark.parametrize("rule", ["OD001", "OD002", "OD003", "SC001", "SC002", "SC003",
                                  "BU001", "BU002", "BU003", "BU004"])
def test_rule_comment_snapshots_in_both_formats(synced, rule):
    """Each rule's comment in wiki markup and ADF matches its snapshot; the ADF is valid."""
    comment = _comments(synced)[rule]
    doc = to_adf(comment)
    assert adf_problem(doc) is None
    _check_snapshot(f"{rule}.wiki.txt", to_wiki(comment) + "\n")
    _check_snapshot(f"{rule}.adf.json", json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    assert find_markers(doc) == find_markers(to_wiki(comment)) == [
        (rule, comment.marker.split()[2].rstrip("]"))]


def test_comments_show_keys_names_and_local_dates_not_evidence_fields(synced):
    """Comments name issues by key, people by name, dates as "Wed 11 Mar 2026", and no evidence
    field names, account ids or ISO timestamps."""
    comments = _comments(synced)
    texts = {rule: plain_text(to_wiki(c)) for rule, c in comments.items()}
    everything = "\n".join(texts.values())
    for raw in ("spent fraction", "spent_fraction", "grace days", "grace_days", "source",
                "warn at", "unresolved:", "T0", "+00:00", "2026-03-", "day(s)", "issue(s)"):
        assert raw not in everything, raw
    for account in ("accountId", "5b10a2844c20165700ede21g"):
        assert account not in everything
    assert "ABC-2|https://jira.example.test/browse/ABC-2] (this issue)" in texts["OD001"]
    assert "Fri 6 Mar 2026" in texts["OD001"]
    assert "Ana Lopez" in texts["SC001"] and "Wed 11 Mar 2026" in texts["SC001"]
    assert "Ben Okafor" in texts["SC001"] and "Thu 12 Mar 2026" in texts["SC001"]
    assert "Ben Okafor" in texts["SC002"]
    assert texts["SC001"].startswith("*ABC Sprint 3 has grown 100%")
    assert "[ABC-10|https://jira.example.test/browse/ABC-10]" in texts["SC003"]
    assert "Ana Lopez (20 h)" in texts["BU002"] and "2 other people (8 h)" in texts["BU002"]
    assert "part of epic" not in texts["BU002"] and texts["BU002"].startswith("*This epic is over")
