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


def _set_status(state, issue, status, items: list) -> None:
    if status == issue.status:
        return
    items.append(("status", issue.status.id, issue.status.name, status.id, status.name))
    was_done = issue.status.category == catalog.DONE
    issue.status = status
    is_done = status.category == catalog.DONE
    # Jira's default workflow sets the resolution on the way into Done and clears it on the
    # way out, in the same history as the status change.
    if is_done and not was_done and issue.resolution is None:
        _set_resolution(state, issue, catalog.RESOLUTION_DONE, items)
    elif was_done and not is_done and issue.resolution is not None:
        _set_resolution(state, issue, None, items)


def _set_resolution(state, issue, new: tuple | None, items: list) -> None:
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


class InvalidValue(ValueError):
    """One value that cannot be stored (the message is Jira's)."""


class InvalidValues(ValueError):
    """Values ``apply_edit`` cannot store; ``errors`` maps each change key to why."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))
        self.errors = errors


DURATION_MESSAGE = "Please specify a valid duration (e.g. 4d, 5h 30m, 60m and 3w)."
SUMMARY_LIMIT = 255


def apply_edit(state, issue, changes: dict) -> Edit:
    """Apply ``changes`` to ``issue``; what changed, for SiteState to record.

    Every value is parsed before anything changes, so a bad one (InvalidValues, naming
    each bad key) leaves the issue exactly as it was.
    """
    parsed, errors = {}, {}
    for name, value in changes.items():
        try:
            parsed[name] = _parse(state, issue, name, value)
        except InvalidValue as exc:
            errors[name] = str(exc)
    if errors:
        raise InvalidValues(errors)
    edit = Edit()
    for name, value in parsed.items():
        _APPLY[name](state, issue, name, value, edit)
    return edit


def _parse(state, issue, name: str, value):
    """``value`` in the typed form its setter stores; InvalidValue when it has none."""
    if name not in _APPLY:
        raise InvalidValue(f"update_issue does not know the field {name!r}")
    if name == "status":
        status = catalog.STATUS_BY_NAME.get(str(value).lower())
        if status is None:
            raise InvalidValue(f"unknown status {value!r}; known: "
                               f"{[s.name for s in catalog.STATUSES]}")
        return status
    if name == "resolution":
        return catalog.RESOLUTION_DONE if value else None
    if name in ("points", "budget"):
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidValue("Operation value must be a number")
        return float(value)
    if name in ("labels", "add_labels", "remove_labels"):
        values = [value] if isinstance(value, str) else value or []
        if not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
            raise InvalidValue("Labels must be a list of strings.")
        return list(values)
    if name in ("sprints", "add_sprint", "remove_sprint"):
        try:
            if name == "sprints":
                return [state.sprint_by_name(n).id for n in value]
            return state.sprint_by_name(value).id
        except (KeyError, TypeError) as exc:
            raise InvalidValue(str(exc)) from None
    if name in ("fix_versions", "add_fix_version", "remove_fix_version"):
        try:
            if name == "fix_versions":
                return [state.version_by_name(issue.project_key, n).id for n in value]
            return state.version_by_name(issue.project_key, value).id
        except (KeyError, TypeError) as exc:
            raise InvalidValue(str(exc)) from None
    if name == "epic":
        return state.get_issue(value) if value else None
    if name in ("original_estimate", "remaining_estimate"):
        try:
            return parse_duration(value)
        except (TypeError, ValueError):
            raise InvalidValue(DURATION_MESSAGE) from None
    if name in ("due", "start_date"):
        try:
            return parse_day(value) if value else None
        except (TypeError, ValueError):
            raise InvalidValue(f"Error parsing date string: {value}") from None
    if name == "summary":
        # Jira's own checks: a summary is text, not empty, at most 255 characters.
        if not isinstance(value, str):
            raise InvalidValue("Operation value must be a string")
        if not value.strip():
            raise InvalidValue("You must specify a summary of the issue.")
        if len(value) > SUMMARY_LIMIT:
            raise InvalidValue(f"Summary must be less than {SUMMARY_LIMIT} characters.")
        return value
    return value  # assignee: stored as given


def _apply_status(state, issue, name, status, edit) -> None:
    _set_status(state, issue, status, edit.items)


def _apply_resolution(state, issue, name, resolution, edit) -> None:
    _set_resolution(state, issue, resolution, edit.items)


def _apply_points(state, issue, name, new, edit) -> None:
    if new != issue.points:
        edit.items.append(("points", None, points_text(issue.points), None, points_text(new)))
        issue.points = new


def _apply_labels(state, issue, name, values, edit) -> None:
    if name == "labels":
        new = list(dict.fromkeys(values))
    elif name == "add_labels":
        new = issue.labels + [v for v in values if v not in issue.labels]
    else:
        new = [v for v in issue.labels if v not in values]
    if new != issue.labels:
        edit.items.append(labels_item(issue.labels, new))
        issue.labels = new


def _apply_sprints(state, issue, name, value, edit) -> None:
    if name == "sprints":
        new = value
    elif name == "add_sprint":
        new = issue.sprints + ([value] if value not in issue.sprints else [])
    else:
        new = [s for s in issue.sprints if s != value]
    if new != issue.sprints:
        edit.items.append(sprint_item(state, issue.sprints, new))
        issue.sprints = new


def _apply_fix_versions(state, issue, name, value, edit) -> None:
    if name == "fix_versions":
        new = value
    elif name == "add_fix_version":
        new = issue.fix_versions + ([value] if value not in issue.fix_versions else [])
    else:
        new = [v for v in issue.fix_versions if v != value]
    # Jira records one item per version added or removed.
    for vid in issue.fix_versions:
        if vid not in new:
            edit.items.append(("Fix Version", str(vid), state.versions[vid].name, None, None))
    for vid in new:
        if vid not in issue.fix_versions:
            edit.items.append(("Fix Version", None, None, str(vid), state.versions[vid].name))
    issue.fix_versions = new


def _apply_epic(state, issue, name, epic, edit) -> None:
    new_id = epic.id if epic else None
    if new_id == issue.epic_id:
        return
    old = state.issues.get(issue.epic_id) if issue.epic_id else None
    edit.items.append(("epic", str(old.id) if old else None, old.key if old else None,
                       str(epic.id) if epic else None, epic.key if epic else None))
    issue.epic_id = new_id
    if old:
        edit.related.append((old, ("Epic Child", str(issue.id), issue.key, None, None)))
    if epic:
        edit.related.append((epic, ("Epic Child", None, None, str(issue.id), issue.key)))


def _apply_estimate(state, issue, name, new, edit) -> None:
    field = "timeoriginalestimate" if name == "original_estimate" else "timeestimate"
    attr = "original" if name == "original_estimate" else "remaining"
    old = getattr(issue, attr)
    if new != old:
        old_s = None if old is None else str(old)
        new_s = None if new is None else str(new)
        edit.items.append((field, old_s, old_s, new_s, new_s))
        setattr(issue, attr, new)


def _apply_due(state, issue, name, new, edit) -> None:
    if new != issue.due:
        edit.items.append(("duedate", issue.due, _due_text(issue.due), new, _due_text(new)))
        issue.due = new


def _apply_summary(state, issue, name, value, edit) -> None:
    if value != issue.summary:
        edit.items.append(("summary", None, issue.summary, None, value))
        issue.summary = value


def _apply_silent(attr: str):
    """A setter for a field Jira keeps no changelog for (it still bumps ``updated``)."""
    def apply(state, issue, name, new, edit) -> None:
        edit.silent |= new != getattr(issue, attr)
        setattr(issue, attr, new)
    return apply


_APPLY = {
    "status": _apply_status, "resolution": _apply_resolution, "points": _apply_points,
    "labels": _apply_labels, "add_labels": _apply_labels, "remove_labels": _apply_labels,
    "sprints": _apply_sprints, "add_sprint": _apply_sprints, "remove_sprint": _apply_sprints,
    "fix_versions": _apply_fix_versions, "add_fix_version": _apply_fix_versions,
    "remove_fix_version": _apply_fix_versions, "epic": _apply_epic,
    "original_estimate": _apply_estimate, "remaining_estimate": _apply_estimate,
    "due": _apply_due, "summary": _apply_summary, "budget": _apply_silent("budget"),
    "start_date": _apply_silent("start_date"), "assignee": _apply_silent("assignee"),
}


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
