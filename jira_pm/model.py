"""The domain model: what jira-pm knows about a Jira site, free of HTTP and SQL.

``mapping`` builds these from Jira's JSON, ``store`` saves and loads them, and
the checks read them. All datetimes are timezone-aware UTC; dates (due date,
release date) are plain ``date`` values as Jira shows them.

An epic is an ``Issue`` whose ``is_epic`` is true: Jira itself models epics as
issues, and the checks need the same fields for both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple

# Jira's three status category keys.
CATEGORY_TODO = "new"
CATEGORY_IN_PROGRESS = "indeterminate"
CATEGORY_DONE = "done"

SEVERITIES = ("info", "low", "medium", "high", "critical")


def severity_rank(severity: str) -> int:
    """Position of a severity in SEVERITIES (higher is more severe); unknown is -1."""
    try:
        return SEVERITIES.index(severity)
    except ValueError:
        return -1


@dataclass(frozen=True, slots=True)
class Person:
    """Who did something: ``id`` is the Cloud accountId or the DC user name/key."""

    id: str
    display_name: str | None = None


class Change(NamedTuple):
    """One item of one changelog history (a history may change several fields).

    ``field`` is Jira's field name as the changelog gives it ("Sprint",
    "Fix Version", "Story Points", "status", "Epic Link", "IssueParentAssociation",
    "timeoriginalestimate", ...); ``field_id`` is the field id where Jira gives it
    (Cloud does, DC mostly does not). ``from_value``/``to_value`` are Jira's
    ``from``/``to`` (ids, seconds, comma-separated sprint ids); ``*_string``
    are the display strings.

    A NamedTuple rather than a dataclass: a store holds about ten changelog items
    per issue, and at 100k issues a tuple is built 3-4x faster and takes 40% less
    memory than a dataclass instance (see docs/benchmarks.md, "Rule evaluation").
    """

    issue_id: int
    history_id: int
    item_index: int
    at: datetime
    author: Person | None
    field: str
    field_id: str | None
    from_value: str | None
    from_string: str | None
    to_value: str | None
    to_string: str | None


@dataclass(frozen=True, slots=True)
class Worklog:
    id: int
    issue_id: int
    author: Person | None
    started: datetime
    seconds: int
    updated: datetime | None = None


@dataclass(frozen=True, slots=True)
class Version:
    """A fix version: jira-pm's milestone."""

    id: int
    project_key: str
    name: str
    start_date: date | None
    release_date: date | None
    released: bool
    archived: bool
    # When jira-pm first saw the version: the scope-creep baseline of a version
    # with no start date.
    first_seen: datetime | None = None


@dataclass(frozen=True, slots=True)
class Sprint:
    id: int
    name: str
    state: str  # "active", "closed" or "future" (lower case)
    start: datetime | None
    end: datetime | None
    complete: datetime | None = None
    board_id: int | None = None


@dataclass(slots=True)
class Issue:
    id: int
    key: str
    project_key: str
    issue_type: str
    summary: str
    status: str
    status_category: str  # CATEGORY_TODO / CATEGORY_IN_PROGRESS / CATEGORY_DONE
    created: datetime
    updated: datetime
    is_subtask: bool = False
    is_epic: bool = False
    status_id: str | None = None
    resolution: str | None = None
    resolved_at: datetime | None = None
    due_date: date | None = None
    labels: tuple[str, ...] = ()
    fix_version_ids: tuple[int, ...] = ()
    sprint_ids: tuple[int, ...] = ()
    # Sub-task parent, or (Cloud) the parent epic: Jira's ``fields.parent``.
    parent_id: int | None = None
    # DC "Epic Link": the epic's key (an issue id is not in the field).
    epic_key: str | None = None
    story_points: float | None = None
    original_estimate_seconds: int | None = None
    remaining_estimate_seconds: int | None = None
    time_spent_seconds: int | None = None
    budget: float | None = None  # from the configured budget custom field
    assignee: Person | None = None
    # Who created the issue (Jira's ``creator``, else ``reporter``): who added it to
    # a container it was created in, where no changelog item says so.
    creator: Person | None = None
    changes: list[Change] = field(default_factory=list)
    worklogs: list[Worklog] = field(default_factory=list)

    @property
    def is_resolved(self) -> bool:
        """Resolved means Jira's resolution is set, or the status is in the done category."""
        return self.resolution is not None or self.status_category == CATEGORY_DONE


@dataclass
class Site:
    """Everything the checks may read: one consistent snapshot of the store."""

    issues: dict[int, Issue] = field(default_factory=dict)
    versions: dict[int, Version] = field(default_factory=dict)
    sprints: dict[int, Sprint] = field(default_factory=dict)
    # status id -> status category key, for reading "status" changelog items.
    status_categories: dict[str, str] = field(default_factory=dict)
    deployment: str = "Cloud"  # "Cloud" or "Server" (any non-Cloud is server-style)
    synced_at: datetime | None = None

    def issue_by_key(self, key: str) -> Issue | None:
        """The issue with this key now, or None (keys change when issues move)."""
        for issue in self.issues.values():
            if issue.key == key:
                return issue
        return None


@dataclass(frozen=True)
class Finding:
    """What a rule reports about one subject.

    ``fingerprint`` is stable across runs for the same rule and subject, so a
    finding can be diffed with the last run and its comment found again.
    ``issue_ids`` are the issues to label with ``label``.
    """

    rule_id: str
    check: str
    subject_type: str  # "issue", "epic", "version", "sprint" or "project"
    subject_id: str
    subject_name: str  # issue key, version or sprint name, project key
    project_key: str | None
    severity: str
    message: str
    evidence: dict[str, Any]
    issue_ids: tuple[int, ...]
    label: str | None
    comment_policy: str  # "once", "never" or "on-change"
    fingerprint: str
