"""Rebuild a field's past values from the changelog, replaying backwards from now.

Jira's changelog items say what a field was (``from``) and became (``to``).
Starting from the issue's current value and undoing each item newest first
gives the value at any earlier moment, which is how a container's baseline
scope and estimates are recovered. Sprint items hold the whole
comma-separated list of sprint ids; Fix Version items add or remove one
version each; parent/Epic Link items hold the epic's id (or key); estimates
are numbers in the value or, for story points, only in the display string.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from operator import attrgetter
from typing import Any, NamedTuple

from jira_pm.model import CATEGORY_IN_PROGRESS, Change, Issue, Person

SPRINT_NAMES = frozenset({"sprint"})
VERSION_NAMES = frozenset({"fix version", "fixversions"})
EPIC_NAMES = frozenset({"epic link", "issueparentassociation", "parent"})
POINTS_NAMES = frozenset({"story points", "story point estimate"})
HOURS_NAMES = frozenset({"timeoriginalestimate"})
STATUS_NAMES = frozenset({"status"})

_LEGACY_SPRINT_ID = re.compile(r"\bid=(\d+)")
_UNKNOWN = object()


@dataclass(frozen=True)
class FieldIds:
    """Which changelog items are which field, by name or by the site's field ids."""

    story_points: str | None = None
    sprint: str | None = None
    epic_link: str | None = None
    _cache: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def from_settings(cls, settings) -> FieldIds:
        fields = getattr(settings, "fields", None)
        if fields is None:
            return cls()
        return cls(
            story_points=getattr(fields, "story_points", None),
            sprint=getattr(fields, "sprint", None),
            epic_link=getattr(fields, "epic_link", None),
        )

    def kind_of(self, change: Change) -> str | None:
        """"sprint", "version", "epic", "points", "hours", "status" or None."""
        return self.kind_of_field(change.field, change.field_id)

    def kind_of_field(self, field: str, field_id: str | None) -> str | None:
        """The kind of the items of one changelog field (as ``kind_of`` classifies them)."""
        # Memoised per (field, field_id): a million items share a few dozen fields.
        key = (field, field_id)
        kind = self._cache.get(key, _UNKNOWN)
        if kind is _UNKNOWN:
            kind = self._cache[key] = self._kind(field, field_id)
        return kind

    def select(self, changes: Iterable[Change], kind: str) -> list[Change]:
        """The items of one field kind."""
        return [change for _, change in self.select_kinds(changes, (kind,))]

    def select_kinds(self, changes: Iterable[Change], kinds: Collection[str]
                     ) -> list[tuple[str, Change]]:
        """(kind, item) for the items of any of ``kinds``, in order.

        ``kind_of`` is inlined: scope creep asks ~24M times at 1M issues.
        """
        memo = self._cache
        found = []
        for change in changes:
            known = memo.get((change.field, change.field_id), _UNKNOWN)
            if known is _UNKNOWN:
                known = self.kind_of(change)
            if known in kinds:
                found.append((known, change))
        return found

    def _kind(self, field: str, field_id: str | None) -> str | None:
        # [fields] settings may hold a field id or the field's exact name.
        def configured(setting: str | None) -> bool:
            return setting is not None and setting in (field_id, field)

        name = field.lower()
        if name in SPRINT_NAMES or configured(self.sprint):
            return "sprint"
        if name in VERSION_NAMES:
            return "version"
        if name in EPIC_NAMES or configured(self.epic_link):
            return "epic"
        if name in POINTS_NAMES or configured(self.story_points):
            return "points"
        if name in HOURS_NAMES:
            return "hours"
        if name in STATUS_NAMES:
            return "status"
        return None


@dataclass(frozen=True)
class ChangeNeeds:
    """Which changelog items a check reads, by kind (see ``FieldIds.kind_of``).

    ``every``: the kinds it reads on any issue (sub-tasks only when ``subtasks``);
    ``epics``: those it reads on epics only. The engine loads only the items the
    enabled rules need when each of their checks says what it reads; a check that
    says nothing (a plugin's, by default) gets every item.
    """

    every: frozenset[str] = frozenset()
    epics: frozenset[str] = frozenset()
    subtasks: bool = False

    def __or__(self, other: ChangeNeeds) -> ChangeNeeds:
        every = self.every | other.every
        return ChangeNeeds(every, (self.epics | other.epics) - every,
                           self.subtasks or other.subtasks)


def parse_int(value: str | None) -> int | None:
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    try:
        return int(float(text))
    except ValueError:
        return None


def parse_number(value: str | None, text: str | None = None) -> float | None:
    """A number from the item's value, else from its display string (story points)."""
    for candidate in (value, text):
        if candidate is None or not str(candidate).strip():
            continue
        try:
            return float(str(candidate).strip())
        except ValueError:
            continue
    return None


def parse_sprint_ids(
    value: str | None, text: str | None = None, names: Mapping[str, int] | None = None
) -> frozenset[int]:
    """Sprint ids of a Sprint item's from/to: "1, 2", legacy DC strings, or names only."""
    if value is not None and str(value).strip():
        raw = str(value)
        legacy = _LEGACY_SPRINT_ID.findall(raw)
        if legacy:
            return frozenset(int(x) for x in legacy)
        ids = {parse_int(part) for part in raw.split(",")}
        ids.discard(None)
        return frozenset(ids)  # type: ignore[arg-type]
    if text and names:
        # Some DC versions leave the ids out; sprint names are the fallback.
        return frozenset(names[n.strip()] for n in text.split(",") if n.strip() in names)
    return frozenset()


SprintParser = Callable[[str | None, str | None], frozenset[int]]


def sprint_parser(names: Mapping[str, int] | None = None) -> SprintParser:
    """``parse_sprint_ids`` with ``names``, memoised by (value, text): a site's Sprint
    items repeat a few hundred distinct values, read millions of times at scale."""
    memo: dict[tuple[str | None, str | None], frozenset[int]] = {}

    def parse(value: str | None, text: str | None) -> frozenset[int]:
        key = (value, text)
        found = memo.get(key)
        if found is None:
            found = memo[key] = parse_sprint_ids(value, text, names)
        return found

    return parse


def parse_issue_ref(
    value: str | None, text: str | None, by_key: Mapping[str, Issue]
) -> int | None:
    """An epic/parent reference: the issue id, else the id of the issue with that key."""
    found = parse_int(value)
    if found is not None:
        return found
    if text and text.strip():
        issue = by_key.get(text.strip())
        return issue.id if issue else None
    return None


class Step(NamedTuple):
    """One change of a field: its value before and after, when and by whom.

    A NamedTuple, built with ``tuple.__new__``: scope creep builds one per
    changelog item of every candidate, a few million at a million issues.
    """

    at: datetime
    author: Person | None
    before: Any
    after: Any


class Timeline:
    """A field's values over an issue's life, rebuilt backwards from its current value."""

    def __init__(self, created: datetime, initial: Any, steps: list[Step], current: Any):
        self.created = created
        self.initial = initial  # the value at creation
        self.steps = steps  # oldest first
        self.current = current

    def value_at(self, moment: datetime, missing: Any = None) -> Any:
        """The value at ``moment``; ``missing`` before the issue existed."""
        if moment < self.created:
            return missing
        value = self.initial
        for step in self.steps:
            if step.at > moment:
                break
            value = step.after
        return value

    def last_entry_step(
        self, member: Callable[[Any], bool], until: datetime | None = None
    ) -> Step | None:
        """The change that last made ``member`` true by ``until``; None when it was
        true from creation (the issue was created with that value)."""
        for step in reversed(self.steps):
            if until is not None and step.at > until:
                continue
            if member(step.after) and not member(step.before):
                return step
        return None

    def last_exit(
        self, member: Callable[[Any], bool], until: datetime | None = None
    ) -> tuple[datetime, Person | None] | None:
        """When (and by whom) ``member`` last became false by ``until``, or None."""
        for step in reversed(self.steps):
            if until is not None and step.at > until:
                continue
            if member(step.before) and not member(step.after):
                return step.at, step.author
        return None


Undo = Callable[[Any, Change], Any]

# Items in the order they happened; one history's items in Jira's own order.
_HISTORY_ORDER = attrgetter("at", "history_id", "item_index")


def rebuild(issue: Issue, changes: Iterable[Change], current: Any, undo: Undo) -> Timeline:
    """Replay ``changes`` of one field backwards from ``current``."""
    ordered = sorted(changes, key=_HISTORY_ORDER)
    value = current
    steps: list[Step] = []
    new = tuple.__new__
    for change in reversed(ordered):
        before = undo(value, change)
        steps.append(new(Step, (change.at, change.author, before, value)))
        value = before
    steps.reverse()
    return Timeline(issue.created, value, steps, current)


def replay_forward(initial: Any, changes: Iterable[Change], apply: Undo) -> Any:
    """Apply ``changes`` oldest first to ``initial`` (the inverse of :func:`rebuild`)."""
    value = initial
    for change in sorted(changes, key=_HISTORY_ORDER):
        value = apply(value, change)
    return value


# --- per-field undo/apply -------------------------------------------------------------


def sprint_undo(names: Mapping[str, int] | None = None, *,
                parse: SprintParser | None = None) -> Undo:
    """Undo a Sprint item; ``parse`` (a ``sprint_parser``) instead of ``names`` shares its memo."""
    parse = parse or sprint_parser(names)

    def undo(value: frozenset[int], change: Change) -> frozenset[int]:
        return parse(change.from_value, change.from_string)

    return undo


def sprint_apply(names: Mapping[str, int] | None = None) -> Undo:
    def apply(value: frozenset[int], change: Change) -> frozenset[int]:
        return parse_sprint_ids(change.to_value, change.to_string, names)

    return apply


def _move(value: frozenset[int], add: str | None, remove: str | None) -> frozenset[int]:
    result = set(value)
    removed, added = parse_int(remove), parse_int(add)
    if removed is not None:
        result.discard(removed)
    if added is not None:
        result.add(added)
    return frozenset(result)


def version_undo(value: frozenset[int], change: Change) -> frozenset[int]:
    """A Fix Version item adds ``to`` and/or removes ``from``; undo it."""
    return _move(value, add=change.from_value, remove=change.to_value)


def version_apply(value: frozenset[int], change: Change) -> frozenset[int]:
    return _move(value, add=change.to_value, remove=change.from_value)


def epic_undo(by_key: Mapping[str, Issue]) -> Undo:
    def undo(value: int | None, change: Change) -> int | None:
        return parse_issue_ref(change.from_value, change.from_string, by_key)

    return undo


def epic_apply(by_key: Mapping[str, Issue]) -> Undo:
    def apply(value: int | None, change: Change) -> int | None:
        return parse_issue_ref(change.to_value, change.to_string, by_key)

    return apply


def points_undo(value: float | None, change: Change) -> float | None:
    return parse_number(change.from_value, change.from_string)


def points_apply(value: float | None, change: Change) -> float | None:
    return parse_number(change.to_value, change.to_string)


def hours_undo(value: float | None, change: Change) -> float | None:
    seconds = parse_number(change.from_value, change.from_string)
    return None if seconds is None else seconds / 3600.0


def hours_apply(value: float | None, change: Change) -> float | None:
    seconds = parse_number(change.to_value, change.to_string)
    return None if seconds is None else seconds / 3600.0


def changes_of(issue: Issue, kind: str, ids: FieldIds) -> list[Change]:
    """The issue's changelog items of one field kind ("sprint", "points", "status", ...)."""
    return ids.select(issue.changes, kind)


def first_move_into_progress(
    issue: Issue,
    ids: FieldIds,
    categories: Mapping[str, str],
    categories_by_name: Mapping[str, str],
) -> datetime | None:
    """When the issue first entered a status of the "In Progress" category, or None."""
    moves = sorted(changes_of(issue, "status", ids), key=lambda c: (c.at, c.history_id))
    for change in moves:
        category = categories.get(str(change.to_value)) if change.to_value else None
        if category is None and change.to_string:
            category = categories_by_name.get(change.to_string)
        if category == CATEGORY_IN_PROGRESS:
            return change.at
    return None
