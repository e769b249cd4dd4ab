"""Issues, versions and statuses → the model."""

from __future__ import annotations

from typing import Any

from jira_pm.mapping.fields import FieldMap
from jira_pm.mapping.history import map_changelog, map_worklog
from jira_pm.mapping.sprints import map_sprints
from jira_pm.mapping.values import (
    as_float,
    as_int,
    as_text,
    map_person,
    parse_jira_date,
    parse_jira_datetime,
)
from jira_pm.model import (
    CATEGORY_DONE,
    CATEGORY_IN_PROGRESS,
    CATEGORY_TODO,
    Issue,
    Sprint,
    Version,
)

_CATEGORIES = {CATEGORY_TODO, CATEGORY_IN_PROGRESS, CATEGORY_DONE}


def map_version(raw: dict, project_key: str) -> Version:
    """A project version (``/project/{key}/versions`` or a fixVersions entry) → Version."""
    return Version(
        id=int(raw["id"]),
        project_key=project_key,
        name=str(raw.get("name") or ""),
        start_date=parse_jira_date(raw.get("startDate")),
        release_date=parse_jira_date(raw.get("releaseDate")),
        released=bool(raw.get("released", False)),
        archived=bool(raw.get("archived", False)),
    )


def map_status(raw: dict) -> tuple[str, str, str]:
    """A ``/status`` entry → (id, name, status category key)."""
    return (str(raw["id"]), str(raw.get("name") or ""), status_category(raw))


def status_category(status: Any) -> str:
    """The status category key of a status object.

    Very old Jira (4.x/5.0) sends no ``statusCategory``; then the category is
    guessed from the name so a resolved issue still reads as done.
    """
    if not isinstance(status, dict):
        return CATEGORY_TODO
    category = status.get("statusCategory")
    if isinstance(category, dict) and category.get("key") in _CATEGORIES:
        return category["key"]
    name = str(status.get("name") or "").lower()
    if name in ("done", "closed", "resolved"):
        return CATEGORY_DONE
    if "progress" in name or "review" in name:
        return CATEGORY_IN_PROGRESS
    return CATEGORY_TODO


def map_issue(raw: dict, fields: FieldMap) -> Issue:
    """One issue of a search page or GET /issue → Issue, with its changes and worklogs."""
    issue_id = int(raw["id"])
    key = str(raw["key"])
    f = raw.get("fields") or {}
    issue_type = f.get("issuetype") or {}
    status = f.get("status") or {}
    project = f.get("project") or {}
    tracking = f.get("timetracking") if isinstance(f.get("timetracking"), dict) else {}
    parent = f.get("parent") if isinstance(f.get("parent"), dict) else None
    resolution = f.get("resolution")

    created = parse_jira_datetime(f.get("created"))
    updated = parse_jira_datetime(f.get("updated")) or created

    issue = Issue(
        id=issue_id,
        key=key,
        project_key=str(project.get("key") or key.rsplit("-", 1)[0]),
        issue_type=str(issue_type.get("name") or ""),
        summary=str(f.get("summary") or ""),
        status=str(status.get("name") or ""),
        status_category=status_category(status),
        created=created,
        updated=updated,
        is_subtask=bool(issue_type.get("subtask", False)),
        is_epic=is_epic_type(issue_type),
        status_id=as_text(status.get("id")),
        resolution=resolution.get("name") if isinstance(resolution, dict) else as_text(resolution),
        resolved_at=parse_jira_datetime(f.get("resolutiondate")),
        due_date=parse_jira_date(f.get("duedate")),
        labels=tuple(str(label) for label in f.get("labels") or ()),
        # Sorted: the order carries no meaning, and the store gives them back sorted.
        fix_version_ids=tuple(sorted({
            int(v["id"]) for v in f.get("fixVersions") or () if isinstance(v, dict) and "id" in v
        })),
        sprint_ids=tuple(sorted({s.id for s in sprints_of(raw, fields)})),
        parent_id=as_int(parent.get("id")) if parent else None,
        epic_key=_epic_key(f, parent, fields),
        story_points=as_float(f.get(fields.story_points)) if fields.story_points else None,
        original_estimate_seconds=_first_int(
            tracking.get("originalEstimateSeconds"), f.get("timeoriginalestimate")
        ),
        remaining_estimate_seconds=_first_int(
            tracking.get("remainingEstimateSeconds"), f.get("timeestimate")
        ),
        time_spent_seconds=_first_int(tracking.get("timeSpentSeconds"), f.get("timespent")),
        budget=as_float(f.get(fields.budget)) if fields.budget else None,
        assignee=map_person(f.get("assignee")),
        # ``creator`` is hidden on some sites and empty for anonymised users.
        creator=map_person(f.get("creator")) or map_person(f.get("reporter")),
    )
    changelog = raw.get("changelog")
    if isinstance(changelog, dict):
        issue.changes = map_changelog(issue_id, changelog.get("histories") or [])
    worklog = f.get("worklog")
    if isinstance(worklog, dict):
        issue.worklogs = [map_worklog(issue_id, w) for w in worklog.get("worklogs") or []]
    return issue


def sprints_of(raw: dict, fields: FieldMap) -> list[Sprint]:
    """The sprints an issue's Sprint field names (with their dates and states)."""
    if not fields.sprint:
        return []
    return map_sprints((raw.get("fields") or {}).get(fields.sprint))


def _first_int(*values: Any) -> int | None:
    for value in values:
        number = as_int(value)
        if number is not None:
            return number
    return None


def is_epic_type(issue_type: dict) -> bool:
    """True for Jira's epic level: hierarchyLevel 1 where given, else the name "Epic"."""
    level = issue_type.get("hierarchyLevel")
    if level is not None:
        return as_int(level) == 1
    return str(issue_type.get("name") or "").lower() == "epic"


def _epic_key(f: dict, parent: dict | None, fields: FieldMap) -> str | None:
    """The issue's epic key: DC Epic Link, the Agile ``epic`` object, or a Cloud epic parent."""
    if fields.epic_link:
        link = f.get(fields.epic_link)
        if isinstance(link, str) and link:
            return link
        if isinstance(link, dict) and link.get("key"):
            return str(link["key"])
    agile_epic = f.get("epic")
    if isinstance(agile_epic, dict) and agile_epic.get("key"):
        return str(agile_epic["key"])
    if parent and is_epic_type((parent.get("fields") or {}).get("issuetype") or {}):
        return as_text(parent.get("key"))
    return None
