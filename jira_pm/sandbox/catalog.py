"""The fixed parts of a sandbox site: statuses, issue types, custom fields per flavour.

Custom field ids differ between Cloud and Data Center sites, as on real
sites, so a client that hard-codes one flavour's ids fails here too.
"""

from __future__ import annotations

from typing import NamedTuple


class StatusCategory(NamedTuple):
    id: int
    key: str
    name: str
    color: str


TODO = StatusCategory(2, "new", "To Do", "blue-gray")
IN_PROGRESS = StatusCategory(4, "indeterminate", "In Progress", "yellow")
DONE = StatusCategory(3, "done", "Done", "green")


class Status(NamedTuple):
    id: str
    name: str
    category: StatusCategory


STATUSES = (
    Status("10000", "To Do", TODO),
    Status("3", "In Progress", IN_PROGRESS),
    Status("10001", "In Review", IN_PROGRESS),
    Status("10002", "Done", DONE),
)
STATUS_BY_NAME = {s.name.lower(): s for s in STATUSES}

RESOLUTION_DONE = ("10000", "Done")


class IssueType(NamedTuple):
    id: str
    name: str
    subtask: bool
    hierarchy_level: int


ISSUE_TYPES = (
    IssueType("10000", "Epic", False, 1),
    IssueType("10001", "Story", False, 0),
    IssueType("10002", "Task", False, 0),
    IssueType("10004", "Bug", False, 0),
    IssueType("10003", "Sub-task", True, -1),
)
ISSUE_TYPE_BY_NAME = {t.name.lower(): t for t in ISSUE_TYPES}
ISSUE_TYPE_BY_NAME["subtask"] = ISSUE_TYPE_BY_NAME["sub-task"]


class CustomField(NamedTuple):
    role: str  # what the sandbox stores in it: points, sprint, epic_link, start_date, budget, other
    id: str
    name: str
    custom: str
    type: str
    items: str | None = None


_GH = "com.pyxis.greenhopper.jira"
_SYS = "com.atlassian.jira.plugin.system.customfieldtypes"

CLOUD_FIELDS = (
    CustomField("points", "customfield_10016", "Story point estimate", f"{_GH}:jsw-story-points",
                "number"),
    CustomField("other", "customfield_10026", "Story Points", f"{_SYS}:float", "number"),
    CustomField("sprint", "customfield_10020", "Sprint", f"{_GH}:gh-sprint", "array", "json"),
    CustomField("epic_link", "customfield_10014", "Epic Link", f"{_GH}:gh-epic-link", "any"),
    CustomField("start_date", "customfield_10015", "Start date", f"{_SYS}:datepicker", "date"),
    CustomField("budget", "customfield_10050", "Budget", f"{_SYS}:float", "number"),
)

SERVER_FIELDS = (
    CustomField("points", "customfield_10106", "Story Points", f"{_SYS}:float", "number"),
    CustomField("sprint", "customfield_10104", "Sprint", f"{_GH}:gh-sprint", "array", "string"),
    CustomField("epic_link", "customfield_10100", "Epic Link", f"{_GH}:gh-epic-link", "any"),
    CustomField("start_date", "customfield_10200", "Start date", f"{_SYS}:datepicker", "date"),
    CustomField("budget", "customfield_10300", "Budget", f"{_SYS}:float", "number"),
)


def custom_fields(flavor: str) -> dict[str, CustomField]:
    """The custom fields of a flavour by role (``other`` fields are listed, never filled)."""
    fields = CLOUD_FIELDS if flavor == "cloud" else SERVER_FIELDS
    return {f.role if f.role != "other" else f.id: f for f in fields}


# System fields listed by GET /field: (id, name, schema type, orderable/navigable/searchable).
SYSTEM_FIELDS = (
    ("summary", "Summary", "string"),
    ("issuetype", "Issue Type", "issuetype"),
    ("status", "Status", "status"),
    ("resolution", "Resolution", "resolution"),
    ("resolutiondate", "Resolved", "datetime"),
    ("created", "Created", "datetime"),
    ("updated", "Updated", "datetime"),
    ("duedate", "Due date", "date"),
    ("project", "Project", "project"),
    ("labels", "Labels", "array"),
    ("fixVersions", "Fix Version/s", "array"),
    ("parent", "Parent", "issuelink"),
    ("timetracking", "Time tracking", "timetracking"),
    ("timeoriginalestimate", "Original Estimate", "number"),
    ("timeestimate", "Remaining Estimate", "number"),
    ("timespent", "Time Spent", "number"),
    ("worklog", "Log Work", "array"),
    ("comment", "Comment", "comments-page"),
    ("assignee", "Assignee", "user"),
    ("reporter", "Reporter", "user"),
    ("creator", "Creator", "user"),
    ("description", "Description", "string"),
    ("subtasks", "Sub-tasks", "array"),
    ("priority", "Priority", "priority"),
)
