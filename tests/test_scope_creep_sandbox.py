"""Scope creep end to end: sandbox over real HTTP → sync → store → SC001's evidence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from jira_pm.checks.testing import run_check
from jira_pm.config import Settings
from jira_pm.jira.client import JiraClient
from jira_pm.sandbox.server import Sandbox
from jira_pm.store import connect
from jira_pm.store.issues import load_site
from jira_pm.sync import sync

pytestmark = pytest.mark.integration


def _at(offset_days: float) -> str:
    moment = datetime.now(UTC) + timedelta(days=offset_days)
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def scenario() -> dict:
    """A running sprint of 5 points that Carol grew by creating a 3-point story inside it."""
    return {
        "timezone": "UTC",
        "users": [{"name": "carol", "display": "Carol Creator"}],
        "projects": [{"key": "ABC", "name": "Alpha"}],
        "sprints": [{"name": "ABC Sprint 1", "state": "active", "start": _at(-6),
                     "end": _at(6)}],
        "issues": [
            {"key": "ABC-1", "type": "Story", "points": 5, "sprints": ["ABC Sprint 1"],
             "created": _at(-10)},
            {"key": "ABC-2", "type": "Story", "points": 3, "sprints": ["ABC Sprint 1"],
             "created": _at(-2), "reporter": "carol"},
        ],
    }


@pytest.mark.parametrize("flavor", ["cloud", "server"])
def test_an_issue_created_into_the_running_sprint_is_added_by_its_creator(flavor, store_path):
    """SC001 names the creator of a story created straight into the sprint: "created in it"."""
    with Sandbox(flavor, scenario=scenario()) as sandbox:
        credentials = sandbox.credentials("admin")
        secret = ({"email": credentials["email"], "api_token": credentials["api_token"]}
                  if flavor == "cloud" else {"pat": credentials["pat"]})
        settings = Settings.for_tests(url=sandbox.url, projects=("ABC",),
                                      store_path=store_path, jira=secret)
        conn = connect(settings.store)
        sync(settings, conn, JiraClient.from_settings(settings.jira))
    [hit] = run_check("scope_creep_sprint", load_site(conn), datetime.now(UTC))
    [added] = hit.evidence["added"]
    assert (added["key"], added["added_by"], added["added_how"]) == (
        "ABC-2", "Carol Creator", "created in it"
    )
