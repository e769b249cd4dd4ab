"""Raw Jira JSON → ``jira_pm.model``: field discovery, dates, sprints, changelog, worklogs.

Pure functions, no I/O: the same code maps Cloud (v2 and v3) and Server/DC
payloads, so every quirk recorded from real sites lives here — offsets without
a colon, ids as strings or numbers, ``timetracking: {}``, legacy sprint strings,
epics as ``fields.parent`` (Cloud) or the Epic Link field (DC).
"""

from __future__ import annotations

from jira_pm.mapping.fields import (
    EPIC_LINK_TYPE,
    JSW_STORY_POINTS_TYPE,
    SPRINT_TYPE,
    FieldMap,
    discover_fields,
)
from jira_pm.mapping.history import map_changelog, map_worklog
from jira_pm.mapping.issues import (
    map_issue,
    map_status,
    map_version,
    sprints_of,
    status_category,
)
from jira_pm.mapping.sprints import map_sprints
from jira_pm.mapping.values import (
    map_person,
    parse_duration,
    parse_jira_date,
    parse_jira_datetime,
)

__all__ = [
    "EPIC_LINK_TYPE",
    "JSW_STORY_POINTS_TYPE",
    "SPRINT_TYPE",
    "FieldMap",
    "discover_fields",
    "map_changelog",
    "map_issue",
    "map_person",
    "map_sprints",
    "map_status",
    "map_version",
    "map_worklog",
    "parse_duration",
    "parse_jira_date",
    "parse_jira_datetime",
    "sprints_of",
    "status_category",
]
