"""Field semantics of changelog items: apply an edit forward, or check history backward.

``apply_edit`` changes an issue and returns the changelog items Jira would
record; ``replay_backward`` walks an issue's histories from the newest to the
oldest and checks that every item's *to* side equals the value at that point,
which is exactly what jira-pm's rule engine relies on.
"""

from __future__ import annotations

from jira_pm.sandbox import catalog
from jira_pm.sandbox.timeutil import parse_day, parse_duration


class InconsistentHistory(ValueError):
    """An issue's changelog does not replay back from its current field values."""


def points_text(value: float | None) -> str | None:
    """How Jira writes a story-point number in a changelog (``5``, ``2.5``)."""
    if value is None:
        return None
    return str(int(value)) if float(value).is_integer() else str(value)


def sprint_item(state, old: list[int], new: list[int]) -> tuple:
    """A Sprint item: every sprint on each side, ids and names; an empty side is "" (not null),
    as Jira Cloud records it (DevLake and jirametrics captures)."""
    ids = lambda sprint_ids: ", ".join(str(i) for i in sprint_ids)  # noqa: E731
    names = lambda sprint_ids: ", ".join(state.sprints[i].name for i in sprint_ids)  # noqa: E731
    return ("Sprint", ids(old), names(old), ids(new), names(new))


def labels_item(old: list[str], new: list[str]) -> tuple:
    return ("labels", None, " ".join(old) or None, None, " ".join(new) or None)


def _set_status(state, issue, status_name: str, items: list) -> None:
    status = catalog.STATUS_BY_NAME.get(str(status_name).lower())
    if status is None:
        raise ValueError(f"unknown status {status_name!r}; known: "
                         f"{[s.name for s in catalog.STATUSES]}")
    if status == issue.status:
        return
    items.append(("status", issue.status.id, issue.status.name, status.id, status.name))
    was_done = issue.status.category == catalog.DONE
    issue.status = status
    is_done = status.category == catalog.DONE
    # Jira's default workflow sets the resolution on the way into Done and clears it on the
    # way out, in the same history as the status change.
    if is_done and not was_done and issue.resolution is None:
        _set_resolution(state, issue, catalog.RESOLUTION_DONE[1], items)
    elif was_done and not is_done and issue.resolution is not None:
        _set_resolution(state, issue, None, items)


def _set_resolution(state, issue, name: str | None, items: list) -> None:
    new = catalog.RESOLUTION_DONE if name else None
    if new == issue.resolution:
        return
    old = issue.resolution
    items.append(("resolution", old[0] if old else None, old[1] if old else None,
                  new[0] if new else None, new[1] if new else None))
    issue.resolution = new
    issue.resolved = state.now() if new else None


class Edit:
    """What one edit did: the issue's changelog items, whether fields without a changelog
    changed (budget, start date, assignee), and items for other issues (an epic's
    "Epic Child" when a child joins or leaves it, as Jira records)."""

    __slots__ = ("items", "silent", "related")

    def __init__(self):
        self.items: list[tuple] = []
        self.silent = False
        self.related: list[tuple] = []  # (other issue, item)


def apply_edit(state, issue, changes: dict) -> Edit:
    """Apply ``changes`` to ``issue``; what changed, for SiteState to record."""
    edit = Edit()
    items = edit.items
    for name, value in changes.items():
        if name == "status":
            _set_status(state, issue, value, items)
        elif name == "resolution":
            _set_resolution(state, issue, value, items)
        elif name == "points":
            new = None if value is None else float(value)
            if new != issue.points:
                items.append(("points", None, points_text(issue.points), None, points_text(new)))
                issue.points = new
        elif name in ("labels", "add_labels", "remove_labels"):
            values = [value] if isinstance(value, str) else list(value or [])
            if name == "labels":
                new = list(dict.fromkeys(values))
            elif name == "add_labels":
                new = issue.labels + [v for v in values if v not in issue.labels]
            else:
                new = [v for v in issue.labels if v not in values]
            if new != issue.labels:
                items.append(labels_item(issue.labels, new))
                issue.labels = new
        elif name in ("sprints", "add_sprint", "remove_sprint"):
            if name == "sprints":
                new = [state.sprint_by_name(n).id for n in value]
            elif name == "add_sprint":
                sid = state.sprint_by_name(value).id
                new = issue.sprints + ([sid] if sid not in issue.sprints else [])
            else:
                sid = state.sprint_by_name(value).id
                new = [s for s in issue.sprints if s != sid]
            if new != issue.sprints:
                items.append(sprint_item(state, issue.sprints, new))
                issue.sprints = new
        elif name in ("fix_versions", "add_fix_version", "remove_fix_version"):
            project = issue.project_key
            if name == "fix_versions":
                new = [state.version_by_name(project, n).id for n in value]
            elif name == "add_fix_version":
                vid = state.version_by_name(project, value).id
                new = issue.fix_versions + ([vid] if vid not in issue.fix_versions else [])
            else:
                vid = state.version_by_name(project, value).id
                new = [v for v in issue.fix_versions if v != vid]
            # Jira records one item per version added or removed.
            for vid in issue.fix_versions:
                if vid not in new:
                    items.append(("Fix Version", str(vid), state.versions[vid].name, None, None))
            for vid in new:
                if vid not in issue.fix_versions:
                    items.append(("Fix Version", None, None, str(vid), state.versions[vid].name))
            issue.fix_versions = new
        elif name == "epic":
            epic = state.get_issue(value) if value else None
            new_id = epic.id if epic else None
            if new_id != issue.epic_id:
                old = state.issues.get(issue.epic_id) if issue.epic_id else None
                items.append(("epic", str(old.id) if old else None, old.key if old else None,
                              str(epic.id) if epic else None, epic.key if epic else None))
                issue.epic_id = new_id
                if old:
                    edit.related.append((old, ("Epic Child", str(issue.id), issue.key, None,
                                               None)))
                if epic:
                    edit.related.append((epic, ("Epic Child", None, None, str(issue.id),
                                                issue.key)))
        elif name in ("original_estimate", "remaining_estimate"):
            field = "timeoriginalestimate" if name == "original_estimate" else "timeestimate"
            attr = "original" if name == "original_estimate" else "remaining"
            new = parse_duration(value)
            old = getattr(issue, attr)
            if new != old:
                old_s = None if old is None else str(old)
                new_s = None if new is None else str(new)
                items.append((field, old_s, old_s, new_s, new_s))
                setattr(issue, attr, new)
        elif name == "due":
            new = parse_day(value) if value else None
            if new != issue.due:
                items.append(("duedate", issue.due, _due_text(issue.due), new, _due_text(new)))
                issue.due = new
        elif name == "summary":
            if value != issue.summary:
                items.append(("summary", None, issue.summary, None, value))
                issue.summary = value
        elif name == "budget":
            new = None if value is None else float(value)
            edit.silent |= new != issue.budget
            issue.budget = new
        elif name == "start_date":
            new = parse_day(value) if value else None
            edit.silent |= new != issue.start_date
            issue.start_date = new
        elif name == "assignee":
            edit.silent |= value != issue.assignee
            issue.assignee = value
        else:
            raise ValueError(f"update_issue does not know the field {name!r}")
    return edit


def _due_text(day: str | None) -> str | None:
    return f"{day} 00:00:00.0" if day else None


def current_values(issue) -> dict:
    """The comparable value of each changelog field now (ids where Jira records ids)."""
    return {
        "status": issue.status.id,
        "resolution": issue.resolution[0] if issue.resolution else None,
        "Sprint": frozenset(issue.sprints),
        "Fix Version": set(issue.fix_versions),
        "epic": issue.epic_id,
        "points": points_text(issue.points),
        "timeoriginalestimate": None if issue.original is None else str(issue.original),
        "timeestimate": None if issue.remaining is None else str(issue.remaining),
        "labels": frozenset(issue.labels),
        "duedate": issue.due,
        "summary": issue.summary,
        "Key": issue.key,
    }


def _side(field: str, item_id, item_text):
    if field in ("status", "resolution", "duedate"):
        return item_id
    if field == "Sprint":
        return frozenset(int(x) for x in item_id.split(", ")) if item_id else frozenset()
    if field == "epic":
        return int(item_id) if item_id else None
    if field == "labels":
        return frozenset(item_text.split()) if item_text else frozenset()
    return item_text


def replay_backward(issue) -> dict:
    """Check the changelog against current values; return the values at creation.

    Raises InconsistentHistory naming the history and field that do not fit.
    """
    values = current_values(issue)
    for history in reversed(issue.histories):
        for field, from_id, from_text, to_id, to_text in reversed(history.items):
            if field not in values:
                continue
            if field == "Fix Version":
                versions = values[field]
                if to_id is not None:
                    if int(to_id) not in versions:
                        raise InconsistentHistory(
                            f"{issue.key}: history {history.id} adds Fix Version {to_text!r} "
                            "but the issue does not have it at that point")
                    versions.discard(int(to_id))
                if from_id is not None:
                    if int(from_id) in versions:
                        raise InconsistentHistory(
                            f"{issue.key}: history {history.id} removes Fix Version "
                            f"{from_text!r} but the issue still has it after that point")
                    versions.add(int(from_id))
                continue
            expected = _side(field, to_id, to_text)
            if values[field] != expected:
                raise InconsistentHistory(
                    f"{issue.key}: history {history.id} sets {field} to {to_text!r}, but the "
                    f"value after it is {values[field]!r}")
            values[field] = _side(field, from_id, from_text)
    return values
