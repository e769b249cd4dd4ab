"""Builders of model objects for check tests (ours and third-party checks').

Short, explicit fixtures: ``issue(1, created="2026-03-01")``,
``change(1, "2026-03-03T10:00", "Sprint", "", "7")``, ``run_check(...)``.
Times without an offset are UTC.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from typing import Any

from jira_pm.calendar import WorkingCalendar
from jira_pm.checks.context import CheckContext, SiteIndex
from jira_pm.checks.history import FieldIds
from jira_pm.checks.registry import Hit, get_check
from jira_pm.model import CATEGORY_TODO, Change, Issue, Person, Site, Worklog

_history_ids = itertools.count(1000)
_worklog_ids = itertools.count(5000)


def at(text: str | datetime) -> datetime:
    """A UTC instant from "2026-03-02", "2026-03-02T10:00" or an aware ISO string."""
    if isinstance(text, datetime):
        return text if text.tzinfo else text.replace(tzinfo=UTC)
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def day(text: str) -> date:
    return date.fromisoformat(text)


def issue(
    issue_id: int,
    key: str | None = None,
    *,
    project: str = "ABC",
    issue_type: str = "Story",
    created: str = "2026-01-05",
    status: str = "To Do",
    status_category: str = CATEGORY_TODO,
    **fields: Any,
) -> Issue:
    """An issue with sensible defaults; any other ``Issue`` field by keyword."""
    if fields.get("is_subtask") and issue_type == "Story":
        issue_type = "Sub-task"
    if fields.get("is_epic") and issue_type == "Story":
        issue_type = "Epic"
    return Issue(
        id=issue_id,
        key=key or f"{project}-{issue_id}",
        project_key=project,
        issue_type=issue_type,
        summary=f"issue {issue_id}",
        status=status,
        status_category=status_category,
        created=at(created),
        updated=at(created),
        **fields,
    )


def change(
    issue_id: int,
    when: str,
    field: str,
    from_value: str | None = None,
    to_value: str | None = None,
    *,
    from_string: str | None = None,
    to_string: str | None = None,
    author: str | None = "ana",
    field_id: str | None = None,
    history_id: int | None = None,
) -> Change:
    """One changelog item (its own history unless ``history_id`` is given)."""
    return Change(
        issue_id=issue_id,
        history_id=history_id if history_id is not None else next(_history_ids),
        item_index=0,
        at=at(when),
        author=Person(author, author.title()) if author else None,
        field=field,
        field_id=field_id,
        from_value=from_value,
        from_string=from_string,
        to_value=to_value,
        to_string=to_string,
    )


def worklog(issue_id: int, hours: float, author: str | None = "ana",
            started: str = "2026-02-02T09:00") -> Worklog:
    return Worklog(
        id=next(_worklog_ids),
        issue_id=issue_id,
        author=Person(author, author.title()) if author else None,
        started=at(started),
        seconds=int(round(hours * 3600)),
    )


def site(*issues: Issue, versions=(), sprints=(), status_categories=None) -> Site:
    return Site(
        issues={i.id: i for i in issues},
        versions={v.id: v for v in versions},
        sprints={s.id: s for s in sprints},
        status_categories=dict(status_categories or {}),
    )


def run_check(
    check_name: str,
    the_site: Site,
    as_of: str | datetime,
    params: dict[str, Any] | None = None,
    *,
    settings: Any = None,
    calendar: WorkingCalendar | None = None,
    eligible=None,
    exempt=None,
) -> list[Hit]:
    """Run one check directly (no rule pack, no engine) and return its hits."""
    spec = get_check(check_name)
    assert spec is not None, check_name
    merged = spec.defaults()
    merged.update(params or {})
    ctx = CheckContext(
        site=the_site,
        calendar=calendar or WorkingCalendar(),
        as_of=at(as_of),
        params=merged,
        index=SiteIndex(the_site, FieldIds.from_settings(settings)),
        settings=settings,
        eligible=eligible or (lambda i: True),
        exempt=exempt or (lambda i: False),
    )
    return list(spec.run(ctx))
