"""The engine loads only the changelog items its enabled checks read, with the same findings."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from test_site_parts import AS_OF, PEOPLE, generated_store

from jira_pm.checks import registry
from jira_pm.checks.history import ChangeNeeds, FieldIds
from jira_pm.engine import change_fields, evaluate, evaluate_in_parts
from jira_pm.model import CATEGORY_IN_PROGRESS, Change
from jira_pm.rulepack import load_pack
from jira_pm.store.issues import save_issues
from jira_pm.store.site import ChangeFields, changelog_fields, load_site


@pytest.fixture
def store(tmp_path):
    """The parts test's store, plus status items on every issue, items no check reads,
    and sub-tasks that moved between sprints.

    Epics in progress moved to "In Progress" some days after their creation: that
    move, not the creation, is SC003's baseline.
    """
    conn, settings = generated_store(tmp_path / "site.sqlite")
    site = load_site(conn)
    history = 1 + max(c.history_id for i in site.issues.values() for c in i.changes)
    stories = [i for i in site.issues.values() if i.sprint_ids][:40]
    for number, story in enumerate(stories, start=1000):
        site.issues[number] = replace(
            story, id=number, key=f"{story.project_key}-{number}", issue_type="Sub-task",
            is_subtask=True, parent_id=story.id, worklogs=[], changes=[
                Change(number, history + number, 0, story.created + timedelta(days=1),
                       PEOPLE[1], "Sprint", "customfield_10020", None, None,
                       str(story.sprint_ids[0]), None)])
    history += 2000
    for issue in site.issues.values():
        moved = issue.created + timedelta(days=2)
        issue.changes += [
            Change(issue.id, history, 0, moved, PEOPLE[2], "status", "status", "1", "To Do",
                   "3", "In Progress"),
            Change(issue.id, history, 1, moved, PEOPLE[2], "summary", "summary", None, "old",
                   None, "new"),
            Change(issue.id, history + 1, 0, moved + timedelta(hours=1), PEOPLE[3], "assignee",
                   "assignee", "u1", "User 1", "u2", "User 2"),
        ]
        history += 2
    items = list(site.issues.values())
    save_issues(conn, items, {i.id: {"id": str(i.id)} for i in items}, AS_OF)
    return conn, settings


def test_only_the_fields_the_checks_read_are_loaded(store):
    """The default pack loads sprint, epic and estimate items everywhere, status items on epics."""
    conn, settings = store
    needed = change_fields(load_pack(settings), FieldIds.from_settings(settings),
                           changelog_fields(conn))
    assert needed == ChangeFields(every=frozenset({"Sprint", "Story Points", "Epic Link"}),
                                  epics=frozenset({"status"}))
    site = load_site(conn, change_fields=needed)
    fields = {(i.is_epic, c.field) for i in site.issues.values() for c in i.changes}
    assert ("status" in {f for epic, f in fields if epic}
            and "status" not in {f for epic, f in fields if not epic})
    assert not {f for _, f in fields} & {"summary", "assignee"}
    assert [i.changes for i in site.issues.values() if i.is_subtask] == [[]] * 40


@pytest.mark.parametrize("max_issues", [1, 10_000])
def test_findings_with_the_needed_items_equal_those_with_every_item(store, max_issues):
    """The store evaluated with only the needed changelog items finds what all items find."""
    conn, settings = store
    pack = load_pack(settings)
    whole = load_site(conn)
    expected = evaluate(whole, pack, settings, AS_OF)
    # The data has teeth: without the epics' status items SC003's baselines would move.
    without_status = load_site(conn, change_fields=ChangeFields(
        every=frozenset({"Sprint", "Story Points", "Epic Link"})))
    assert [f for f in evaluate(without_status, pack, settings, AS_OF) if f.rule_id == "SC003"
            ] != [f for f in expected if f.rule_id == "SC003"]
    assert any(i.is_epic and i.status_category == CATEGORY_IN_PROGRESS
               for i in whole.issues.values())
    found, _ = evaluate_in_parts(conn, settings, pack, AS_OF, max_issues=max_issues)
    assert found == expected


def test_a_check_that_does_not_say_what_it_reads_gets_every_item(store, monkeypatch):
    """A rule whose check says nothing of what it reads (a plugin's) makes every item load."""
    conn, settings = store
    registry.all_checks()  # the built-in checks and plugins are loaded before one is added
    monkeypatch.setitem(registry._REGISTRY, "plugin_check", registry.CheckSpec(
        name="plugin_check", run=lambda ctx: [], label="plugin", severity="low",
        source="plugin_module"))
    pack = load_pack(settings)
    plugin = replace(pack.enabled()[0], id="PL001", check="plugin_check")
    with_plugin = replace(pack, rules=(*pack.rules, plugin))
    ids = FieldIds.from_settings(settings)
    assert change_fields(pack, ids, changelog_fields(conn)) is not None
    assert change_fields(with_plugin, ids, changelog_fields(conn)) is None


def test_needs_join_and_an_item_needed_everywhere_is_not_also_an_epic_item():
    """Joined needs list a kind read on every issue once (not for epics too), and keep sub-tasks."""
    joined = (ChangeNeeds(every=frozenset({"sprint"}), epics=frozenset({"status"}))
              | ChangeNeeds(every=frozenset({"status"})))
    assert joined == ChangeNeeds(every=frozenset({"sprint", "status"}))
    assert (ChangeNeeds() | ChangeNeeds(subtasks=True)).subtasks


def test_a_field_configured_by_id_is_loaded_under_its_own_name(store):
    """A [fields] sprint id with a site-specific field name is still recognised and loaded."""
    conn, settings = store
    fields = [("Sprint", "customfield_10020"), ("Team Iteration", "customfield_777"),
              ("summary", "summary")]
    ids = FieldIds(sprint="customfield_777")
    needed = change_fields(load_pack(settings), ids, fields)
    assert needed.every == {"Sprint", "Team Iteration"}
