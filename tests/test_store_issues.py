"""Saving mapped issues, versions, sprints and sync state, and loading the Site back."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import pytest
from conftest import load_recorded

from jira_pm.mapping import FieldMap, map_issue, map_sprints, map_version
from jira_pm.model import Person
from jira_pm.store import connect
from jira_pm.store.issues import (
    count_issues_by_project,
    delete_issues,
    get_sync_state,
    issue_ids,
    load_site,
    save_issues,
    save_sprints,
    save_statuses,
    save_versions,
    set_sync_state,
    transaction,
)

SYNCED = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
CLOUD_FIELDS = FieldMap(story_points="customfield_10036", sprint="customfield_10020")


def recorded(relative: str) -> dict:
    return load_recorded(relative)


def test_saved_issues_load_back_equal_with_changes_worklogs_and_links(store_path):
    """Issues saved and loaded back are equal to the mapped ones, changes and worklogs included."""
    raws = [
        recorded("jirametrics/issue_SP-13_expand_changelog.json"),
        recorded("jrjc/issue_TST-2_all_expanded.json"),
        recorded("jirametrics/issue_SP-15_expand_changelog.json"),
    ]
    issues = [map_issue(r, CLOUD_FIELDS) for r in raws]
    conn = connect(store_path)
    save_issues(conn, issues, raws, SYNCED)
    site = load_site(conn)
    assert set(site.issues) == {i.id for i in issues}
    for issue in issues:
        loaded = site.issues[issue.id]
        assert loaded.changes == issue.changes
        assert sorted(loaded.worklogs, key=lambda w: w.id) == sorted(
            issue.worklogs, key=lambda w: w.id
        )
        loaded.changes, loaded.worklogs = issue.changes, issue.worklogs
        assert loaded == issue
    assert site.synced_at == SYNCED


def test_the_creator_is_stored_and_loaded_back_and_an_unknown_one_stays_none(store_path):
    """An issue's creator survives a save and load; an issue without one loads with None."""
    known = recorded("atlassian-python-api/issue_FOO-123_v2.json")
    unknown = recorded("jirametrics/issue_SP-15_expand_changelog.json")
    del unknown["fields"]["creator"], unknown["fields"]["reporter"]
    issues = [map_issue(r, CLOUD_FIELDS) for r in (known, unknown)]
    conn = connect(store_path)
    save_issues(conn, issues, [known, unknown], SYNCED)
    site = load_site(conn)
    assert site.issues[int(known["id"])].creator == Person("abc123", "ABC")
    assert site.issues[int(unknown["id"])].creator is None


def test_resaving_an_issue_replaces_its_changes_worklogs_and_links(store_path):
    """An upsert of the same id replaces key, sprint links and changelog, leaving no orphans."""
    raw = recorded("jirametrics/issue_SP-13_expand_changelog.json")
    conn = connect(store_path)
    save_issues(conn, [map_issue(raw, CLOUD_FIELDS)], [raw], SYNCED)
    moved = copy.deepcopy(raw)
    moved["key"] = "NEW-1"
    moved["fields"]["project"]["key"] = "NEW"
    moved["fields"]["customfield_10020"] = []
    moved["changelog"]["histories"] = moved["changelog"]["histories"][:1]
    save_issues(conn, [map_issue(moved, CLOUD_FIELDS)], {int(raw["id"]): moved}, SYNCED)
    site = load_site(conn)
    (issue,) = site.issues.values()
    assert (issue.key, issue.project_key, issue.sprint_ids) == ("NEW-1", "NEW", ())
    assert len(issue.changes) == len(moved["changelog"]["histories"][0]["items"])
    assert conn.execute("SELECT COUNT(*) FROM issue_sprints").fetchone()[0] == 0


def test_the_raw_column_keeps_the_issue_json_without_changelog(store_path):
    """The raw column holds Jira's issue JSON minus the changelog and inline worklogs."""
    raw = recorded("jrjc/issue_TST-2_all_expanded.json")
    conn = connect(store_path)
    save_issues(conn, [map_issue(raw, FieldMap())], [raw], SYNCED)


    stored = json.loads(conn.execute("SELECT raw FROM issues").fetchone()[0])
    assert stored["key"] == "TST-2"
    assert "changelog" not in stored and "worklog" not in stored["fields"]
    assert stored["fields"]["summary"] == raw["fields"]["summary"]


def test_delete_issues_removes_them_and_their_children(store_path):
    """Deleting issues removes their rows, changes, worklogs and links, and nothing else."""
    raws = [recorded("jrjc/issue_TST-2_all_expanded.json"),
            recorded("jirametrics/issue_SP-13_expand_changelog.json")]
    conn = connect(store_path)
    save_issues(conn, [map_issue(r, CLOUD_FIELDS) for r in raws], raws, SYNCED)
    assert delete_issues(conn, [int(raws[0]["id"])]) == 1
    assert issue_ids(conn) == {int(raws[1]["id"])}
    assert conn.execute(
        "SELECT COUNT(*) FROM worklogs WHERE issue_id = ?", (int(raws[0]["id"]),)
    ).fetchone()[0] == 0
    assert conn.execute("SELECT COUNT(*) FROM changes").fetchone()[0] == len(
        load_site(conn).issues[int(raws[1]["id"])].changes
    )
    assert count_issues_by_project(conn) == {"SP": 1}


def test_versions_keep_their_first_seen_across_upserts(store_path):
    """A version's first_seen is set once; later upserts change its fields but not first_seen."""
    project = recorded("go-jira/project_ABDERA_issues_apache_org.json")
    versions = [map_version(v, "ABDERA") for v in project["versions"]]
    conn = connect(store_path)
    save_versions(conn, versions)
    first = load_site(conn).versions[versions[0].id]
    assert first.first_seen is not None
    renamed = [map_version({**project["versions"][0], "name": "renamed"}, "ABDERA")]
    save_versions(conn, renamed)
    again = load_site(conn).versions[versions[0].id]
    assert again.name == "renamed" and again.first_seen == first.first_seen
    assert len(load_site(conn).versions) == len(versions)


def test_sprints_and_statuses_round_trip(store_path):
    """Sprints (with state changes) and statuses load back as saved."""
    conn = connect(store_path)
    raw = recorded("jirametrics/issue_SP-13_expand_changelog.json")
    sprints = map_sprints(raw["fields"]["customfield_10020"])
    save_sprints(conn, sprints)
    save_sprints(conn, map_sprints([{**raw["fields"]["customfield_10020"][0], "state": "closed"}]))
    save_statuses(conn, [("3", "In Progress", "indeterminate"), ("10002", "Done", "done")])
    site = load_site(conn)
    assert site.sprints[3].state == "closed"
    assert site.sprints[3].start == sprints[0].start
    assert site.status_categories == {"3": "indeterminate", "10002": "done"}


def test_sync_state_updates_only_the_given_columns(store_path):
    """set_sync_state changes the named columns and keeps the rest; unknown scopes are empty."""
    conn = connect(store_path)
    assert get_sync_state(conn, "s").cursor is None
    set_sync_state(conn, "s", cursor=SYNCED, checkpoint={"after_id": 10})
    set_sync_state(conn, "s", last_full=SYNCED)
    state = get_sync_state(conn, "s")
    assert (state.cursor, state.last_full, state.checkpoint) == (SYNCED, SYNCED, {"after_id": 10})
    set_sync_state(conn, "s", checkpoint=None)
    assert get_sync_state(conn, "s").checkpoint is None


def test_a_failed_page_transaction_leaves_the_store_unchanged(store_path):
    """An error inside a transaction rolls back the page's issues and its checkpoint together."""
    raw = recorded("jirametrics/issue_SP-13_expand_changelog.json")
    conn = connect(store_path)
    with pytest.raises(RuntimeError), transaction(conn):
        save_issues(conn, [map_issue(raw, CLOUD_FIELDS)], [raw], SYNCED)
        set_sync_state(conn, "s", checkpoint={"after_id": 1})
        raise RuntimeError("killed mid-page")
    assert issue_ids(conn) == set()
    assert get_sync_state(conn, "s").checkpoint is None


def test_a_moved_epic_takes_its_dc_children_epic_links_along(store_path):
    """When an epic is saved under a new key, stored children naming the old key follow it."""
    epic = recorded("jrjc/issue_TST-2_all_expanded.json")
    child = copy.deepcopy(recorded("jrjc/issue_HST-1_with_changelog.json"))
    child["fields"]["customfield_10680"] = "TST-2"
    fields = FieldMap(epic_link="customfield_10680")
    conn = connect(store_path)
    save_issues(conn, [map_issue(epic, fields), map_issue(child, fields)], [epic, child], SYNCED)
    moved = copy.deepcopy(epic)
    moved["key"] = "NEW-2"
    save_issues(conn, [map_issue(moved, fields)], [moved], SYNCED)
    assert load_site(conn).issues[int(child["id"])].epic_key == "NEW-2"
