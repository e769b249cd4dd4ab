"""Load a scenario (TOML, JSON or a dict) into a site; the format is in docs/sandbox.md.

Field values in ``[[issues]]`` are the issue's CURRENT values (what GET /issue
shows now); ``history`` lists the changes that led there, and must replay
backward to a consistent start — the loader checks it and names the first
history entry that does not fit.
"""

from __future__ import annotations

import json
import time
import tomllib
from pathlib import Path

from jira_pm.errors import ConfigError
from jira_pm.sandbox import catalog
from jira_pm.sandbox.changes import (
    InconsistentHistory,
    _due_text,
    points_text,
    replay_backward,
)
from jira_pm.sandbox.state import History, Issue, SiteState
from jira_pm.sandbox.timeutil import parse_day, parse_duration, parse_instant

DEFAULT_USERS = (
    {"name": "admin", "display": "jira-pm bot", "email": "pm-bot@example.com", "admin": True},
    {"name": "readonly", "display": "Read Only", "email": "readonly@example.com",
     "readonly": True},
)

# Scenario history field names (case-insensitive) -> canonical changelog field.
FIELD_ALIASES = {
    "status": "status", "resolution": "resolution",
    "sprint": "Sprint", "sprints": "Sprint",
    "fix version": "Fix Version", "fixversion": "Fix Version", "fixversions": "Fix Version",
    "fix_versions": "Fix Version",
    "epic link": "epic", "epic": "epic", "parent": "epic", "issueparentassociation": "epic",
    "story points": "points", "story point estimate": "points", "points": "points",
    "timeoriginalestimate": "timeoriginalestimate", "original_estimate": "timeoriginalestimate",
    "original estimate": "timeoriginalestimate",
    "timeestimate": "timeestimate", "remaining_estimate": "timeestimate",
    "remaining estimate": "timeestimate",
    "labels": "labels", "duedate": "duedate", "due": "duedate", "summary": "summary",
}

_ISSUE_KEYS = {
    "key", "id", "type", "summary", "status", "resolution", "points", "created", "updated",
    "resolved", "fix_versions", "sprints", "epic", "parent", "original_estimate",
    "remaining_estimate", "due", "labels", "start_date", "budget", "assignee", "reporter",
    "worklogs", "comments", "history", "priority", "properties", "locked",
}


def read_scenario(source: str | Path | dict) -> dict:
    """The scenario as a dict, from a dict, a .toml/.json file path, or TOML/JSON text."""
    if isinstance(source, dict):
        return source
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read sandbox scenario {path}: {exc.strerror}",
                          hint="pass an existing .toml or .json file") from exc
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text)
        return tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"sandbox scenario {path} is not valid {path.suffix[1:].upper()}: "
                          f"{exc}", hint="fix the syntax at the place named") from exc


def load_scenario(source: str | Path | dict, flavor: str = "cloud", state: SiteState | None = None,
                  clock=None) -> SiteState:
    """A new site holding the scenario's users, projects, versions, sprints and issues."""
    data = read_scenario(source)
    where = source if not isinstance(source, dict) else "scenario"
    try:
        return _build(data, flavor, state, clock)
    except ConfigError:
        raise
    except (KeyError, ValueError, TypeError) as exc:
        message = exc.args[0] if exc.args else str(exc)
        raise ConfigError(f"sandbox scenario {where}: {message}",
                          hint="see docs/sandbox.md, 'Scenario files'") from exc


def scenario_clock(now: str | None):
    """A clock (ms) that starts at the scenario's ``now`` and runs with the wall clock."""
    if not now:
        return None
    start = parse_instant(now)
    wall0 = time.monotonic()
    return lambda: start + int((time.monotonic() - wall0) * 1000)


def _build(data: dict, flavor: str, state: SiteState | None, clock) -> SiteState:
    timezone = data.get("timezone", "UTC")
    state = state or SiteState(flavor, timezone, clock or scenario_clock(data.get("now")))
    names = {u["name"] for u in data.get("users", [])}
    for user in [u for u in DEFAULT_USERS if u["name"] not in names] + list(data.get("users", [])):
        state.add_user(**{k: v for k, v in user.items()})
    for project in data.get("projects", []):
        state.add_project(project["key"], project.get("name", project["key"]),
                          project.get("lead", "admin"))
    for version in data.get("versions", []):
        if version["project"].upper() not in state.projects:
            raise KeyError(f"version {version['name']!r} names unknown project "
                           f"{version['project']!r}")
        state.add_version(
            version["project"].upper(), str(version["name"]),
            start=parse_day(version["start"]) if version.get("start") else None,
            release=parse_day(version["release"]) if version.get("release") else None,
            released=bool(version.get("released", False)),
            archived=bool(version.get("archived", False)),
            description=version.get("description", ""))
    for sprint in data.get("sprints", []):
        state.add_sprint(
            sprint["name"], sprint.get("state", "future").lower(),
            start=parse_instant(sprint["start"]) if sprint.get("start") else None,
            end=parse_instant(sprint["end"]) if sprint.get("end") else None,
            complete=parse_instant(sprint["complete"]) if sprint.get("complete") else None,
            board_id=int(sprint.get("board", 1)), goal=sprint.get("goal", ""))
    specs = list(data.get("issues", []))
    issues = [_make_issue(state, spec) for spec in specs]
    for issue, spec in zip(issues, specs, strict=True):
        _link_and_fill(state, issue, spec)
    for issue in issues:
        try:
            replay_backward(issue)
        except InconsistentHistory as exc:
            raise ValueError(f"{exc} (field values are the CURRENT values; history must lead "
                             "to them)") from None
    return state


def _make_issue(state: SiteState, spec: dict) -> Issue:
    unknown = set(spec) - _ISSUE_KEYS
    if unknown:
        raise KeyError(f"issue {spec.get('key')!r} has unknown keys {sorted(unknown)}")
    key = spec["key"].upper()
    project = key.rsplit("-", 1)[0]
    if project not in state.projects:
        state.add_project(project, project.title(), "admin")
    issue_id = int(spec["id"]) if "id" in spec else state.next_id("issue")
    state.reserve_ids("issue", issue_id)
    type_name = spec.get("type", "Story").lower()
    if type_name not in catalog.ISSUE_TYPE_BY_NAME:
        raise ValueError(f"issue {key}: unknown type {spec['type']!r}")
    status = catalog.STATUS_BY_NAME.get(spec.get("status", "To Do").lower())
    if status is None:
        raise ValueError(f"issue {key}: unknown status {spec['status']!r}")
    created = parse_instant(spec.get("created", "2026-01-01T09:00:00Z"))
    reporter = spec.get("reporter", "admin")
    state.user(reporter)
    issue = Issue(issue_id, key, project, catalog.ISSUE_TYPE_BY_NAME[type_name],
                  spec.get("summary", f"Issue {key}"), status, created, reporter)
    return state.add_issue(issue)


def _link_and_fill(state: SiteState, issue: Issue, spec: dict) -> None:
    key = issue.key
    if issue.status.category == catalog.DONE or spec.get("resolution"):
        issue.resolution = catalog.RESOLUTION_DONE
    issue.points = None if spec.get("points") is None else float(spec["points"])
    issue.original = parse_duration(spec.get("original_estimate"))
    issue.remaining = parse_duration(spec.get("remaining_estimate"))
    issue.due = parse_day(spec["due"]) if spec.get("due") else None
    issue.labels = list(spec.get("labels", []))
    issue.fix_versions = [state.version_by_name(issue.project_key, str(n)).id
                          for n in spec.get("fix_versions", [])]
    issue.sprints = [state.sprint_by_name(n).id for n in spec.get("sprints", [])]
    if spec.get("epic"):
        issue.epic_id = _issue_ref(state, spec["epic"], key)
    if spec.get("parent"):
        issue.parent_id = _issue_ref(state, spec["parent"], key)
        if not issue.type.subtask:
            raise ValueError(f"issue {key}: 'parent' is for sub-tasks; use 'epic' for an epic")
    issue.start_date = parse_day(spec["start_date"]) if spec.get("start_date") else None
    issue.budget = None if spec.get("budget") is None else float(spec["budget"])
    issue.assignee = spec.get("assignee")
    issue.priority = spec.get("priority", "Medium")
    issue.properties = dict(spec["properties"]) if spec.get("properties") else None
    issue.locked = bool(spec.get("locked", False))
    last = issue.created
    for entry in sorted(spec.get("history", []), key=lambda h: parse_instant(h["at"])):
        at = parse_instant(entry["at"])
        if at < issue.created:
            raise ValueError(f"issue {key}: a history entry at {entry['at']} is before the "
                             f"issue was created ({spec.get('created')})")
        author = entry.get("author", "admin")
        state.user(author)
        parts = entry.get("items") or [entry]
        items = tuple(_history_item(state, issue, p) for p in parts)
        issue.histories.append(History(state.next_id("history"), at, author, items))
        last = max(last, at)
    for entry in spec.get("worklogs", []):
        started = parse_instant(entry["started"])
        seconds = parse_duration(entry["spent"])
        state.user(entry.get("author", "admin"))
        created = (parse_instant(entry["created"]) if entry.get("created")
                   else started + seconds * 1000)
        worklog = state.add_worklog(issue, entry.get("author", "admin"), started, seconds,
                                    entry.get("comment", ""), at=created,
                                    worklog_id=entry.get("id"))
        if entry.get("id"):
            state.reserve_ids("worklog", int(entry["id"]))
        last = max(last, worklog.created)
    for entry in spec.get("comments", []):
        at = parse_instant(entry.get("created", issue.created))
        state.user(entry.get("author", "admin"))
        state.add_comment(issue, entry.get("author", "admin"), entry["body"], at=at)
        last = max(last, at)
    resolved = spec.get("resolved")
    if issue.resolution:
        done_at = [h.at for h in issue.histories if any(i[0] == "resolution" for i in h.items)]
        issue.resolved = parse_instant(resolved) if resolved else (done_at[-1] if done_at else last)
    issue.updated = parse_instant(spec["updated"]) if spec.get("updated") else last


def _issue_ref(state: SiteState, ref: str, where: str) -> int:
    found = state.find_issue(ref)
    if found is None:
        raise KeyError(f"issue {where} refers to unknown issue {ref!r}")
    return found.id


def _names(value) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return [v.strip() for v in str(value).split(",") if v.strip()]


def _history_item(state: SiteState, issue: Issue, entry: dict) -> tuple:
    raw_field = str(entry["field"])
    field = FIELD_ALIASES.get(raw_field.lower())
    if field is None:
        raise ValueError(f"issue {issue.key}: history field {raw_field!r} is not supported; use "
                         f"one of {sorted(set(FIELD_ALIASES))}")
    old, new = entry.get("from"), entry.get("to")
    if field == "status":
        def side(v):
            if not v:
                return None, None
            status = catalog.STATUS_BY_NAME[str(v).lower()]
            return status.id, status.name
        return (field, *side(old), *side(new))
    if field == "resolution":
        side = lambda v: catalog.RESOLUTION_DONE if v else (None, None)  # noqa: E731
        return (field, *side(old), *side(new))
    if field == "Sprint":
        def side(v):
            sprints = [state.sprint_by_name(n) for n in _names(v)]
            if not sprints:
                return "", ""  # Jira writes an empty Sprint side as "", not null
            return ", ".join(str(s.id) for s in sprints), ", ".join(s.name for s in sprints)
        return (field, *side(old), *side(new))
    if field == "Fix Version":
        if old and new:
            raise ValueError(f"issue {issue.key}: a Fix Version history entry either adds "
                             "(from empty) or removes (to empty) one version")
        def side(v):
            if not v:
                return None, None
            version = state.version_by_name(issue.project_key, str(v))
            return str(version.id), version.name
        return (field, *side(old), *side(new))
    if field == "epic":
        def side(v):
            if not v:
                return None, None
            target = state.issues[_issue_ref(state, v, issue.key)]
            return str(target.id), target.key
        return (field, *side(old), *side(new))
    if field == "points":
        side = lambda v: points_text(None if v in (None, "") else float(v))  # noqa: E731
        return (field, None, side(old), None, side(new))
    if field in ("timeoriginalestimate", "timeestimate"):
        def side(v):
            seconds = parse_duration(v)
            return None if seconds is None else str(seconds)
        return (field, side(old), side(old), side(new), side(new))
    if field == "labels":
        side = lambda v: " ".join(v if isinstance(v, list) else str(v or "").split()) or None  # noqa: E731
        return (field, None, side(old), None, side(new))
    if field == "duedate":
        side = lambda v: parse_day(v) if v else None  # noqa: E731
        return (field, side(old), _due_text(side(old)), side(new), _due_text(side(new)))
    return (field, None, old or None, None, new or None)
