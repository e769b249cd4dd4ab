"""The Sprint field's values: Cloud sprint objects and DC legacy strings."""

from __future__ import annotations

import re
from typing import Any

from jira_pm.mapping.values import as_int, parse_jira_datetime
from jira_pm.model import Sprint

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
    sprint_id = as_int(raw.get("id"))
    if sprint_id is None:
        return None
    return Sprint(
        id=sprint_id,
        name=str(raw.get("name") or ""),
        state=str(raw.get("state") or "future").lower(),
        start=parse_jira_datetime(raw.get("startDate")),
        end=parse_jira_datetime(raw.get("endDate")),
        complete=parse_jira_datetime(raw.get("completeDate")),
        board_id=as_int(raw.get("boardId", raw.get("originBoardId", raw.get("rapidViewId")))),
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
