"""Raw Jira JSON → ``jira_pm.model``: field discovery, dates, sprints, changelog, worklogs.

Pure functions, no I/O: the same code maps Cloud (v2 and v3) and Server/DC
payloads, so every quirk recorded from real sites lives here — offsets without
a colon, ids as strings or numbers, ``timetracking: {}``, legacy sprint strings,
epics as ``fields.parent`` (Cloud) or the Epic Link field (DC).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from jira_pm.config import FieldSettings  # the [fields] overrides: id or exact name

# schema.custom keys of the Jira Software fields, the reliable way to find them.
SPRINT_TYPE = "com.pyxis.greenhopper.jira:gh-sprint"
EPIC_LINK_TYPE = "com.pyxis.greenhopper.jira:gh-epic-link"
JSW_STORY_POINTS_TYPE = "com.pyxis.greenhopper.jira:jsw-story-points"
STORY_POINT_NAMES = ("story points", "story point estimate")
START_DATE_NAMES = ("start date",)
BUDGET_NAMES = ("budget",)

_CATEGORIES = {CATEGORY_TODO, CATEGORY_IN_PROGRESS, CATEGORY_DONE}


@dataclass(frozen=True)
class FieldMap:
    """Which field id holds what on this site (None: the site has no such field)."""

    story_points: str | None = None
    sprint: str | None = None
    epic_link: str | None = None
    start_date: str | None = None
    budget: str | None = None

    def ids(self) -> tuple[str, ...]:
        """The custom field ids in use, for the search ``fields`` parameter."""
        return tuple(value for value in self.as_dict().values() if value)

    def as_dict(self) -> dict[str, str | None]:
        return {
            "story_points": self.story_points,
            "sprint": self.sprint,
            "epic_link": self.epic_link,
            "start_date": self.start_date,
            "budget": self.budget,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FieldMap:
        return cls(**{name: data.get(name) for name in cls.__dataclass_fields__})


# ---------------------------------------------------------------- field discovery


def discover_fields(fields_json: list[dict], overrides: FieldSettings | None = None) -> FieldMap:
    """Find the Jira Software custom fields in a ``GET /field`` answer.

    An override (field id or exact name) wins. Otherwise ``schema.custom`` decides,
    then the name. For story points the field Jira Software itself estimates with
    is preferred: ``jsw-story-points`` ("Story point estimate") where the site has
    it (Cloud), else a number field named "Story Points" (Server/DC, older Cloud).
    """
    by_id = {str(f.get("id")): f for f in fields_json if f.get("id") is not None}
    by_name: dict[str, list[dict]] = {}
    for f in fields_json:
        by_name.setdefault(str(f.get("name", "")), []).append(f)

    def override(name: str) -> str | None:
        wanted = getattr(overrides, name, None) if overrides is not None else None
        if not wanted:
            return None
        if wanted in by_id:
            return wanted
        exact = by_name.get(wanted)
        if exact:
            return str(exact[0]["id"])
        # Not on this site (or /field not readable): trust the admin's id as given.
        return wanted

    def by_custom(custom: str) -> str | None:
        matches = [f for f in fields_json if _schema(f).get("custom") == custom]
        return _lowest_id(matches)

    def numeric_named(names: tuple[str, ...]) -> str | None:
        for name in names:
            matches = [
                f
                for f in fields_json
                if str(f.get("name", "")).strip().lower() == name
                and _schema(f).get("type") in (None, "number")
            ]
            if matches:
                return _lowest_id(matches)
        return None

    def date_named(names: tuple[str, ...]) -> str | None:
        matches = [
            f
            for f in fields_json
            if str(f.get("name", "")).strip().lower() in names
            and _schema(f).get("type") in ("date", "datetime")
        ]
        return _lowest_id(matches)

    return FieldMap(
        story_points=override("story_points")
        or by_custom(JSW_STORY_POINTS_TYPE)
        or numeric_named(STORY_POINT_NAMES),
        sprint=override("sprint") or by_custom(SPRINT_TYPE),
        epic_link=override("epic_link") or by_custom(EPIC_LINK_TYPE),
        start_date=override("start_date") or date_named(START_DATE_NAMES),
        budget=override("budget") or numeric_named(BUDGET_NAMES),
    )


def _schema(field: dict) -> dict:
    schema = field.get("schema")
    return schema if isinstance(schema, dict) else {}


def _lowest_id(fields: list[dict]) -> str | None:
    """The oldest of several same-named fields (lowest custom field number) is the real one."""
    if not fields:
        return None

    def number(f: dict) -> int:
        digits = re.sub(r"\D", "", str(f.get("id", "")))
        return int(digits) if digits else 0

    return str(min(fields, key=number)["id"])


# ---------------------------------------------------------------- scalars

_OFFSET_NO_COLON = re.compile(r"([+-]\d\d)(\d\d)$")


def parse_jira_datetime(text: Any) -> datetime | None:
    """A Jira timestamp as an aware UTC datetime; None for null, "" or Agile's ``<null>``.

    Accepts ``+0000`` / ``-0700`` (no colon, as Jira sends), ``+00:00``, ``Z``,
    with or without milliseconds or seconds. A naive text is taken as UTC.
    """
    if text is None:
        return None
    if isinstance(text, datetime):
        value = text
    else:
        text = str(text).strip()
        if not text or text == "<null>":
            return None
        try:
            # Python 3.11+ reads "+0000", "Z" and short forms itself, 15× faster than a regex.
            value = datetime.fromisoformat(text)
        except ValueError:
            fixed = _OFFSET_NO_COLON.sub(r"\1:\2", text[:-1] + "+00:00" if text.endswith("Z")
                                         else text)
            try:
                value = datetime.fromisoformat(fixed)
            except ValueError as exc:
                raise ValueError(f"not a Jira timestamp: {text!r}") from exc
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse_jira_date(text: Any) -> date | None:
    """A Jira date field (``2026-11-21``) as a date; None when empty."""
    if text is None or text == "":
        return None
    text = str(text)
    if len(text) > 10:  # a datetime in a date field (or DC's "2012-04-12 00:00:00.0")
        text = text[:10]
    return date.fromisoformat(text)


def _int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return int(float(value))


def _float(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def map_person(raw: Any) -> Person | None:
    """A user object → Person: Cloud ``accountId``, else DC ``name`` (then ``key``)."""
    if not isinstance(raw, dict):
        return None
    ident = raw.get("accountId") or raw.get("name") or raw.get("key")
    if not ident:
        return None  # a deleted / anonymised user carries no id worth keeping
    return Person(id=str(ident), display_name=raw.get("displayName"))


_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([wdhm])")
# Jira's default time tracking: 1w = 5d, 1d = 8h (used only when seconds are absent).
_UNIT_SECONDS = {"w": 5 * 8 * 3600, "d": 8 * 3600, "h": 3600, "m": 60}


def parse_duration(text: Any) -> int | None:
    """Jira's human duration ("1d 2h", "18w 2d", "30m") in seconds, default 8h days."""
    if not text:
        return None
    parts = _DURATION.findall(str(text))
    if not parts:
        return None
    return int(sum(float(n) * _UNIT_SECONDS[unit] for n, unit in parts))


# ---------------------------------------------------------------- sprints

_LEGACY_SPRINT = re.compile(r"\[(.*)\]\s*$", re.S)
_LEGACY_KEYS = ("id", "rapidViewId", "state", "name", "goal", "startDate", "endDate",
                "completeDate", "activatedDate", "sequence", "synced", "autoStartStop",
                "incompleteIssuesDestinationId")


def map_sprints(value: Any) -> list[Sprint]:
    """The Sprint field's value → Sprints: Cloud objects, legacy DC strings, or one object."""
    if value is None or value == "":
        return []
    items = value if isinstance(value, list) else [value]
    sprints: list[Sprint] = []
    for item in items:
        if isinstance(item, dict):
            sprint = _sprint_from_object(item)
        elif isinstance(item, str):
            sprint = _sprint_from_legacy(item)
        else:
            sprint = None
        if sprint is not None:
            sprints.append(sprint)
    return sprints


def _sprint_from_object(raw: dict) -> Sprint | None:
    sprint_id = _int(raw.get("id"))
    if sprint_id is None:
        return None
    return Sprint(
        id=sprint_id,
        name=str(raw.get("name") or ""),
        state=str(raw.get("state") or "future").lower(),
        start=parse_jira_datetime(raw.get("startDate")),
        end=parse_jira_datetime(raw.get("endDate")),
        complete=parse_jira_datetime(raw.get("completeDate")),
        board_id=_int(raw.get("boardId", raw.get("originBoardId", raw.get("rapidViewId")))),
    )


def _sprint_from_legacy(text: str) -> Sprint | None:
    """``com.atlassian.greenhopper.service.sprint.Sprint@1f[id=1,rapidViewId=2,state=ACTIVE,...]``.

    Values may contain commas (a sprint name, a goal), so split only before a
    known ``key=``.
    """
    match = _LEGACY_SPRINT.search(text)
    if not match:
        return None
    body = match.group(1)
    keys = "|".join(_LEGACY_KEYS)
    pieces = re.split(rf",(?=(?:{keys})=)", body)
    values: dict[str, str | None] = {}
    for piece in pieces:
        key, _, val = piece.partition("=")
        values[key.strip()] = None if val == "<null>" else val
    return _sprint_from_object(values)


# ---------------------------------------------------------------- changelog, worklogs


def map_changelog(issue_id: int, histories: list[dict]) -> list[Change]:
    """Changelog histories (search ``changelog``, ``/changelog`` pages, bulkfetch) → Changes."""
    changes: list[Change] = []
    for position, history in enumerate(histories or []):
        history_id = _int(history.get("id"))
        if history_id is None:
            # Seen in the wild; a negative position keeps the items and cannot clash with Jira ids.
            history_id = -(position + 1)
        at = parse_jira_datetime(history.get("created"))
        if at is None:
            continue
        author = map_person(history.get("author"))
        for index, item in enumerate(history.get("items") or []):
            changes.append(
                Change(
                    issue_id=issue_id,
                    history_id=history_id,
                    item_index=index,
                    at=at,
                    author=author,
                    field=str(item.get("field") or item.get("fieldId") or ""),
                    field_id=item.get("fieldId"),
                    from_value=_text(item.get("from")),
                    from_string=_text(item.get("fromString")),
                    to_value=_text(item.get("to")),
                    to_string=_text(item.get("toString")),
                )
            )
    # DC lists histories newest first on some versions; the store keeps them by id.
    changes.sort(key=lambda c: (c.history_id, c.item_index))
    return changes


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def map_worklog(issue_id: int, raw: dict) -> Worklog:
    """One worklog; seconds from ``timeSpentSeconds``, else ``minutesSpent`` or ``timeSpent``."""
    seconds = _int(raw.get("timeSpentSeconds"))
    if seconds is None and raw.get("minutesSpent") is not None:
        seconds = int(raw["minutesSpent"]) * 60
    if seconds is None:
        seconds = parse_duration(raw.get("timeSpent")) or 0
    started = parse_jira_datetime(raw.get("started")) or parse_jira_datetime(raw.get("created"))
    return Worklog(
        id=int(raw["id"]),
        issue_id=int(raw.get("issueId") or issue_id),
        author=map_person(raw.get("author")),
        started=started,
        seconds=seconds,
        updated=parse_jira_datetime(raw.get("updated")),
    )


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


# ---------------------------------------------------------------- issues


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
        is_epic=_is_epic_type(issue_type),
        status_id=_text(status.get("id")),
        resolution=resolution.get("name") if isinstance(resolution, dict) else _text(resolution),
        resolved_at=parse_jira_datetime(f.get("resolutiondate")),
        due_date=parse_jira_date(f.get("duedate")),
        labels=tuple(str(label) for label in f.get("labels") or ()),
        # Sorted: the order carries no meaning, and the store gives them back sorted.
        fix_version_ids=tuple(sorted({
            int(v["id"]) for v in f.get("fixVersions") or () if isinstance(v, dict) and "id" in v
        })),
        sprint_ids=tuple(sorted({s.id for s in sprints_of(raw, fields)})),
        parent_id=_int(parent.get("id")) if parent else None,
        epic_key=_epic_key(f, parent, fields),
        story_points=_float(f.get(fields.story_points)) if fields.story_points else None,
        original_estimate_seconds=_first_int(
            tracking.get("originalEstimateSeconds"), f.get("timeoriginalestimate")
        ),
        remaining_estimate_seconds=_first_int(
            tracking.get("remainingEstimateSeconds"), f.get("timeestimate")
        ),
        time_spent_seconds=_first_int(tracking.get("timeSpentSeconds"), f.get("timespent")),
        budget=_float(f.get(fields.budget)) if fields.budget else None,
        assignee=map_person(f.get("assignee")),
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
        number = _int(value)
        if number is not None:
            return number
    return None


def _is_epic_type(issue_type: dict) -> bool:
    level = issue_type.get("hierarchyLevel")
    if level is not None:
        return _int(level) == 1
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
    if parent and _is_epic_type((parent.get("fields") or {}).get("issuetype") or {}):
        return _text(parent.get("key"))
    return None
