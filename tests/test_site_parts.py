"""Evaluating a store part by part (groups of projects) finds exactly what the whole store does."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from jira_pm.checks.history import FieldIds
from jira_pm.config import Settings
from jira_pm.engine import config_problems, evaluate, evaluate_in_parts
from jira_pm.model import (
    CATEGORY_DONE,
    CATEGORY_IN_PROGRESS,
    CATEGORY_TODO,
    Change,
    Issue,
    Person,
    Sprint,
    Version,
    Worklog,
)
from jira_pm.rulepack import load_pack
from jira_pm.site_parts import site_parts
from jira_pm.store import connect
from jira_pm.store.issues import save_issues, save_sprints, save_versions
from jira_pm.store.site import load_site

AS_OF = datetime(2026, 6, 15, 12, tzinfo=UTC)
PROJECTS = ["A", "B", "C", "D", "E", "F", "G"]
STATUSES = [("1", "To Do", CATEGORY_TODO), ("3", "In Progress", CATEGORY_IN_PROGRESS),
            ("5", "Done", CATEGORY_DONE)]
PEOPLE = [Person(f"u{n}", f"User {n}") for n in range(5)]


def generated_store(path):
    """Seven projects linked within themselves, plus links that join A+B, C+D and E+F.

    A+B: a B story in an A epic (parent). C+D: a D issue was in a C sprint (changelog only).
    E+F: an F issue's Epic Link history names an E epic by key only (DC style). G is alone,
    and one sprint has no issues at all.
    """
    rnd = random.Random(5)
    start = AS_OF - timedelta(days=60)
    sprints = {n: Sprint(n, f"Sprint {n}", "active" if n % 2 else "closed",
                         start + timedelta(days=n), start + timedelta(days=n + 70))
               for n in range(1, 16)}  # sprint n belongs to PROJECTS[n % 7]; 15 has no issues
    versions = {n: Version(n, PROJECTS[n % 7], f"v{n}",
                           start_date=(start + timedelta(days=5)).date() if n % 2 else None,
                           release_date=(AS_OF + timedelta(days=rnd.randint(-20, 20))).date(),
                           released=False, archived=False, first_seen=start)
                for n in range(1, 15)}
    issues: dict[int, Issue] = {}
    epics: dict[str, list[Issue]] = {p: [] for p in PROJECTS}
    history = 1
    for issue_id in range(1, 701):
        project = PROJECTS[issue_id % 7]
        is_epic = issue_id % 23 == 0
        created = start + timedelta(days=rnd.randint(0, 50))
        status_id, status, category = rnd.choice(STATUSES)
        own_sprints = [n for n in range(1, 15) if PROJECTS[n % 7] == project]
        own_versions = [n for n in versions if PROJECTS[n % 7] == project]
        sprint = rnd.choice(own_sprints) if not is_epic else None
        parent = rnd.choice(epics[project]).id if epics[project] and not is_epic else None
        issue = Issue(
            id=issue_id, key=f"{project}-{issue_id}", project_key=project,
            issue_type="Epic" if is_epic else "Story", summary="", status=status,
            status_category=category, created=created, updated=created, is_epic=is_epic,
            status_id=status_id, resolution="Done" if category == CATEGORY_DONE else None,
            resolved_at=created + timedelta(days=3) if category == CATEGORY_DONE else None,
            due_date=(created + timedelta(days=rnd.randint(5, 60))).date()
            if rnd.random() < 0.3 else None,
            fix_version_ids=(rnd.choice(own_versions),) if rnd.random() < 0.6 else (),
            sprint_ids=(sprint,) if sprint else (), parent_id=parent,
            story_points=float(rnd.choice([1, 2, 3, 5, 8])),
            original_estimate_seconds=3600 * rnd.randint(1, 10),
            remaining_estimate_seconds=3600 * rnd.randint(0, 5),
            budget=float(rnd.randint(5, 60)) if is_epic else None,
            assignee=rnd.choice(PEOPLE),
        )
        moment = created + timedelta(days=rnd.randint(1, 20))
        if sprint:  # added to its sprint after the start: scope creep material
            issue.changes.append(Change(issue_id, history, 0, moment, rnd.choice(PEOPLE),
                                        "Sprint", "customfield_10020", None, None,
                                        str(sprint), f"Sprint {sprint}"))
            history += 1
        if not is_epic:
            issue.changes.append(Change(issue_id, history, 0, moment + timedelta(hours=2),
                                        rnd.choice(PEOPLE), "Story Points", "customfield_10016",
                                        None, "1", None, str(issue.story_points)))
            history += 1
        issue.worklogs = [Worklog(issue_id * 10 + w, issue_id, rnd.choice(PEOPLE), created,
                                  3600 * rnd.randint(1, 8)) for w in range(rnd.randint(0, 3))]
        issues[issue_id] = issue
        if is_epic:
            epics[project].append(issue)
    # The cross-project links.
    a_epic = epics["A"][0]
    b_story = next(i for i in issues.values() if i.project_key == "B" and not i.is_epic)
    b_story.parent_id = a_epic.id
    d_issue = next(i for i in issues.values() if i.project_key == "D" and i.sprint_ids)
    c_sprint = next(n for n in range(1, 15) if PROJECTS[n % 7] == "C")
    d_issue.changes.append(Change(d_issue.id, history, 0, sprints[c_sprint].start
                                  - timedelta(days=1), PEOPLE[0], "Sprint", "customfield_10020",
                                  None, None, str(c_sprint), f"Sprint {c_sprint}"))
    d_issue.changes.append(Change(d_issue.id, history + 1, 0, AS_OF - timedelta(days=2),
                                  PEOPLE[0], "Sprint", "customfield_10020", str(c_sprint),
                                  f"Sprint {c_sprint}", str(d_issue.sprint_ids[0]), None))
    f_issue = next(i for i in issues.values() if i.project_key == "F" and not i.is_epic)
    e_epic = epics["E"][0]
    f_issue.changes.append(Change(f_issue.id, history + 2, 0, AS_OF - timedelta(days=3),
                                  PEOPLE[1], "Epic Link", None, None, e_epic.key, None, None))
    for issue in issues.values():
        issue.changes.sort(key=lambda c: (c.history_id, c.item_index))
    conn = connect(path)
    items = list(issues.values())
    save_issues(conn, items, {i.id: {"id": str(i.id)} for i in items}, AS_OF)
    save_versions(conn, versions.values())
    save_sprints(conn, sprints.values())
    budgets = [{"epic": epics[p][0].key, "hours": 20} for p in PROJECTS] + [
        {"epic": "NOPE-1", "hours": 5}, {"project": "C", "amount": 1000},
        {"version": "v3", "project": "D", "hours": 10}]
    settings = Settings.for_tests(projects=PROJECTS, budget=budgets,
                                  rates={"default": 100.0})
    return conn, settings


@pytest.fixture
def store(store_path):
    return generated_store(store_path)


def test_projects_group_by_every_cross_project_link(store):
    """Parents, sprints named only in changelogs and DC epic keys in history all join projects."""
    conn, settings = store
    parts = site_parts(conn, FieldIds.from_settings(settings), max_issues=1)
    groups = sorted(sorted(part.projects) for part in parts)
    assert groups == [["A", "B"], ["C", "D"], ["E", "F"], ["G"]]
    # Every sprint is in exactly one part; the sprint no issue names goes with the first.
    named = [s for part in parts for s in part.sprint_ids]
    assert sorted(named) == list(range(1, 16)) and 15 in parts[0].sprint_ids


@pytest.mark.parametrize("max_issues", [1, 250, 10_000])
def test_findings_part_by_part_equal_the_whole_store(store, max_issues):
    """The findings and config problems are the same, exactly, however the store is split."""
    conn, settings = store
    pack = load_pack(settings)
    whole = load_site(conn)
    expected = evaluate(whole, pack, settings, AS_OF)
    assert {f.rule_id for f in expected} >= {"SC001", "OD002", "BU002"}  # the data has teeth
    found, problems = evaluate_in_parts(conn, settings, pack, AS_OF, max_issues=max_issues)
    assert found == expected
    assert problems == config_problems(whole, settings)

