"""What a check sees: the site snapshot, the rule, the calendar and "now"."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import Any

from jira_pm.calendar import WorkingCalendar
from jira_pm.checks import history
from jira_pm.model import Issue, Site

_CONTAINERS = frozenset({"sprint", "version", "epic"})


class SiteIndex:
    """Lookups over one site, built once per evaluation and shared by every rule."""

    def __init__(self, site: Site, field_ids: history.FieldIds):
        self.site = site
        self.field_ids = field_ids
        # What several rules compute alike (the budget rules' statuses), keyed by
        # everything the result depends on.
        self.shared: dict[tuple, Any] = {}

    @cached_property
    def by_key(self) -> dict[str, Issue]:
        return {issue.key: issue for issue in self.site.issues.values()}

    @cached_property
    def subtasks(self) -> dict[int, list[Issue]]:
        """Sub-tasks by their parent's id."""
        found: dict[int, list[Issue]] = defaultdict(list)
        for issue in self.site.issues.values():
            if issue.is_subtask and issue.parent_id is not None:
                found[issue.parent_id].append(issue)
        return found

    @cached_property
    def epic_children(self) -> dict[int, list[Issue]]:
        """Issues in each epic now (Cloud parent or DC Epic Link), sub-tasks excluded."""
        found: dict[int, list[Issue]] = defaultdict(list)
        for issue in self.site.issues.values():
            epic_id = self.current_epic_id(issue)
            if epic_id is not None:
                found[epic_id].append(issue)
        return found

    @cached_property
    def version_issues(self) -> dict[int, list[Issue]]:
        """Issues whose fix versions include each version now."""
        found: dict[int, list[Issue]] = defaultdict(list)
        for issue in self.site.issues.values():
            for version_id in issue.fix_version_ids:
                found[version_id].append(issue)
        return found

    @cached_property
    def status_names(self) -> dict[str, str]:
        """Status name -> category, learnt from the issues (for changelog items without ids)."""
        return {issue.status: issue.status_category for issue in self.site.issues.values()}

    @cached_property
    def sprint_names(self) -> dict[str, int]:
        """Sprint name -> id, for Sprint items that carry names only."""
        return {s.name: s.id for s in self.site.sprints.values()}

    @cached_property
    def parse_sprints(self) -> history.SprintParser:
        """``history.parse_sprint_ids`` with this site's sprint names, memoised."""
        return history.sprint_parser(self.sprint_names)

    def changes(self, issue: Issue, kind: str) -> list:
        """The issue's changelog items of one field kind."""
        return history.changes_of(issue, kind, self.field_ids)

    def current_epic_id(self, issue: Issue) -> int | None:
        """The id of the epic ``issue`` belongs to now, or None (sub-tasks never do)."""
        if issue.is_subtask or issue.is_epic:
            return None
        if issue.parent_id is not None:
            parent = self.site.issues.get(issue.parent_id)
            if parent is None or parent.is_epic:
                return issue.parent_id
        if issue.epic_key:
            epic = self.by_key.get(issue.epic_key)
            return epic.id if epic else None
        return None

    def ever_members(self, kind: str) -> dict[int, list[Issue]]:
        """Container id -> issues that are in it now or were at any time in the changelog."""
        return self._ever[kind]

    @cached_property
    def _ever(self) -> dict[str, dict[int, list[Issue]]]:
        sprints: dict[int, dict[int, Issue]] = defaultdict(dict)
        versions: dict[int, dict[int, Issue]] = defaultdict(dict)
        epics: dict[int, dict[int, Issue]] = defaultdict(dict)
        ids = self.field_ids
        parse_sprints = self.parse_sprints
        for issue in self.site.issues.values():
            if issue.is_subtask:
                continue
            for sprint_id in issue.sprint_ids:
                sprints[sprint_id][issue.id] = issue
            for version_id in issue.fix_version_ids:
                versions[version_id][issue.id] = issue
            epic_id = self.current_epic_id(issue)
            if epic_id is not None:
                epics[epic_id][issue.id] = issue
            for kind, change in ids.select_kinds(issue.changes, _CONTAINERS):
                if kind == "sprint":
                    for sprint_id in parse_sprints(change.from_value, change.from_string):
                        sprints[sprint_id][issue.id] = issue
                    for sprint_id in parse_sprints(change.to_value, change.to_string):
                        sprints[sprint_id][issue.id] = issue
                elif kind == "version":
                    for value in (change.from_value, change.to_value):
                        version_id = history.parse_int(value)
                        if version_id is not None:
                            versions[version_id][issue.id] = issue
                elif kind == "epic":
                    for value, text in (
                        (change.from_value, change.from_string),
                        (change.to_value, change.to_string),
                    ):
                        epic_id = history.parse_issue_ref(value, text, self.by_key)
                        if epic_id is not None:
                            epics[epic_id][issue.id] = issue
        return {
            "sprint": {k: list(v.values()) for k, v in sprints.items()},
            "version": {k: list(v.values()) for k, v in versions.items()},
            "epic": {k: list(v.values()) for k, v in epics.items()},
        }


@dataclass
class CheckContext:
    """Everything one rule's check may read; checks never do I/O."""

    site: Site
    calendar: WorkingCalendar
    as_of: datetime
    params: dict[str, Any]
    index: SiteIndex
    settings: Any = None
    rule: Any = None
    # In the rule's scope and not exempt: may be a subject or get a label.
    eligible: Callable[[Issue], bool] = field(default=lambda issue: True)
    # Exempt by the write-back settings (label, issue type, project), whatever the rule.
    exempt: Callable[[Issue], bool] = field(default=lambda issue: False)

    @property
    def today(self) -> date:
        """The date "now" falls on in the configured time zone."""
        return self.calendar.local_date(self.as_of)

    @property
    def project_scope(self) -> tuple[str, ...]:
        return tuple(getattr(self.rule, "projects", ()) or ())

    def project_in_scope(self, project_key: str | None) -> bool:
        scope = self.project_scope
        return not scope or project_key in scope
