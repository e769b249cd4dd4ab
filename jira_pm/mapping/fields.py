"""Which custom field holds what on a site: ``FieldMap`` and discovery from ``GET /field``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jira_pm.config import FieldSettings  # the [fields] overrides: id or exact name

# schema.custom keys of the Jira Software fields, the reliable way to find them.
SPRINT_TYPE = "com.pyxis.greenhopper.jira:gh-sprint"
EPIC_LINK_TYPE = "com.pyxis.greenhopper.jira:gh-epic-link"
JSW_STORY_POINTS_TYPE = "com.pyxis.greenhopper.jira:jsw-story-points"
STORY_POINT_NAMES = ("story points", "story point estimate")
START_DATE_NAMES = ("start date",)
BUDGET_NAMES = ("budget",)


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
