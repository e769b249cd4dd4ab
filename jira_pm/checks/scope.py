"""Scope creep of one container (sprint, version, epic): baseline vs now.

Shared by the three scope-creep checks; each supplies the container's
baseline time T0, the issues that were ever in it, and how to read
membership from an issue's changelog.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from jira_pm.checks import history
from jira_pm.checks.context import CheckContext
from jira_pm.checks.registry import Hit, Param
from jira_pm.model import Issue, Person

MEASURES = ("points", "hours", "issues")

SCOPE_PARAMS = (
    Param("threshold", "float", 0.10, "flag when growth exceeds this fraction of the baseline"),
    Param(
        "measure",
        "str",
        "points",
        "what growth is counted in (issue count when the baseline has no estimates)",
        choices=MEASURES,
    ),
)

# What every scope-creep check reads on any issue but sub-tasks (their scope is
# their parents'): the membership of all three containers (SiteIndex.ever_members
# builds them together) and both estimates.
SCOPE_CHANGES = history.ChangeNeeds(
    every=frozenset({"sprint", "version", "epic", "points", "hours"}))

_NOT_THERE = object()


def membership_timeline(ctx: CheckContext, issue: Issue, kind: str) -> history.Timeline:
    """The container field's timeline for ``kind`` = "sprint", "version" or "epic"."""
    index = ctx.index
    changes = index.changes(issue, kind)
    if kind == "sprint":
        return history.rebuild(issue, changes, frozenset(issue.sprint_ids),
                               history.sprint_undo(parse=index.parse_sprints))
    if kind == "version":
        return history.rebuild(
            issue, changes, frozenset(issue.fix_version_ids), history.version_undo
        )
    return history.rebuild(
        issue, changes, index.current_epic_id(issue), history.epic_undo(index.by_key)
    )


def estimate_timeline(ctx: CheckContext, issue: Issue, measure: str) -> history.Timeline:
    """The estimate's timeline: story points, or original estimate in hours."""
    index = ctx.index
    if measure == "hours":
        seconds = issue.original_estimate_seconds
        current = None if seconds is None else seconds / 3600.0
        return history.rebuild(issue, index.changes(issue, "hours"), current, history.hours_undo)
    return history.rebuild(issue, index.changes(issue, "points"), issue.story_points,
                           history.points_undo)


def _who(person: Person | None) -> str | None:
    if person is None:
        return None
    return person.display_name or person.id


def _how_added(
    members: history.Timeline, is_member: Callable[[Any], bool], as_of: datetime, issue: Issue
) -> tuple[datetime, Person | None, str]:
    """When, by whom and how an added issue entered the container.

    An issue created with the container already set has no changelog item for
    it: whoever created the issue put the work there.
    """
    step = members.last_entry_step(is_member, as_of)
    if step is None:
        return issue.created, issue.creator, "created in it"
    return step.at, step.author, "added"


def _last_change(timeline: history.Timeline, after: datetime,
                 until: datetime) -> history.Step | None:
    """The last change of the field after ``after`` and by ``until``: who re-estimated, when."""
    for step in reversed(timeline.steps):
        if after < step.at <= until and step.after != step.before:
            return step
    return None


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _fmt(number: float) -> str:
    return f"{number:g}"


def scope_creep(
    ctx: CheckContext,
    *,
    subject_type: str,
    subject_id: int,
    subject_name: str,
    label_name: str,
    project_key: str | None,
    t0: datetime,
    candidates: Iterable[Issue],
    kind: str,
    is_member: Callable[[Any], bool],
) -> Hit | None:
    """The scope-creep finding of one container, or None when growth is within threshold."""
    threshold = float(ctx.params["threshold"])
    measure = ctx.params["measure"]
    as_of = ctx.as_of
    baseline: list[tuple[Issue, float]] = []
    added: list[dict[str, Any]] = []
    added_ids: list[int] = []
    grown: list[dict[str, Any]] = []
    grown_ids: list[int] = []
    shrunk: list[dict[str, Any]] = []
    removed: list[dict[str, Any]] = []

    for issue in sorted(candidates, key=lambda i: i.id):
        # Sub-tasks carry no points: Jira's own sprint report counts their parents.
        if issue.is_subtask or not ctx.eligible(issue):
            continue
        members = membership_timeline(ctx, issue, kind)
        at_t0 = is_member(members.value_at(t0, _NOT_THERE)) if issue.created <= t0 else False
        # "Now" is --as-of: the changelog replays the snapshot back to that moment too.
        now = is_member(members.value_at(as_of, _NOT_THERE))
        if not at_t0 and not now:
            continue  # added then removed after T0, or never in: not scope
        estimates = estimate_timeline(ctx, issue, "hours" if measure == "hours" else "points")
        est_now = estimates.value_at(as_of)
        if at_t0:
            est_t0 = estimates.value_at(t0)
            baseline.append((issue, est_t0 or 0.0))
            if not now:
                exit_info = members.last_exit(is_member, as_of)
                removed.append(
                    {
                        "key": issue.key,
                        "removed_at": _iso(exit_info[0]) if exit_info else None,
                        "removed_by": _who(exit_info[1]) if exit_info else None,
                        "estimate": est_t0,
                    }
                )
                continue
            delta = (est_now or 0.0) - (est_t0 or 0.0)
            if delta > 0:
                changed = _last_change(estimates, t0, as_of)
                grown.append({"key": issue.key, "from": est_t0, "to": est_now, "increase": delta,
                              "changed_at": _iso(changed.at) if changed else None,
                              "changed_by": _who(changed.author) if changed else None})
                grown_ids.append(issue.id)
            elif delta < 0:
                shrunk.append({"key": issue.key, "from": est_t0, "to": est_now, "decrease": -delta})
        else:
            entered_at, entered_by, how = _how_added(members, is_member, as_of, issue)
            added.append(
                {
                    "key": issue.key,
                    "added_at": _iso(max(entered_at, issue.created)),
                    "added_by": _who(entered_by),
                    "added_how": how,
                    "estimate": est_now,
                }
            )
            added_ids.append(issue.id)

    if not baseline:
        return None  # nothing to creep from: growth is undefined
    baseline_estimate = sum(est for _, est in baseline)
    used = measure
    if measure == "issues" or baseline_estimate <= 0:
        used = "issues"
        growth = len(added) / len(baseline)
        growth_amount: float = len(added)
        base_amount: float = len(baseline)
        to_label = added_ids
    else:
        growth_amount = sum(a["estimate"] or 0.0 for a in added) + sum(
            g["increase"] for g in grown
        )
        base_amount = baseline_estimate
        growth = growth_amount / baseline_estimate
        to_label = added_ids + grown_ids
    if growth <= threshold or not to_label:
        return None

    message = (
        f"{label_name} grew {growth:.0%} since {ctx.calendar.local_date(t0).isoformat()} "
        f"(threshold {threshold:.0%}): {len(added)} added"
        + (f", {len(grown)} re-estimated" if used != "issues" and grown else "")
        + f"; +{_fmt(growth_amount)} on a baseline of {_fmt(base_amount)} {used}"
    )
    evidence = {
        "baseline_at": _iso(t0),
        "measure": used,
        "measure_configured": measure,
        "baseline_issues": len(baseline),
        "baseline_amount": base_amount,
        "growth_amount": growth_amount,
        "growth": round(growth, 4),
        "threshold": threshold,
        "added": added,
        "re_estimated": grown,
        "shrunk": shrunk,
        "removed": removed,
    }
    return Hit(
        subject_type=subject_type,
        subject_id=str(subject_id),
        subject_name=subject_name,
        project_key=project_key,
        message=message,
        evidence=evidence,
        issue_ids=tuple(sorted(set(to_label))),
    )
