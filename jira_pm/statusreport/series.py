"""The numbers behind the report's charts: burn-up, sprint scope, budget spend.

Every series is a value at the end of each day (or week) in the calendar's
time zone, replayed from the changelog with the same timelines the
scope-creep checks use (``checks.scope``), so a chart and a finding can never
disagree about what was in a container when.

An issue's contribution only changes at its own changelog moments (created,
moved in or out, re-estimated, resolved), so each issue adds a difference at
those moments and a running sum gives every day's value: linear in the
changelog, not in issues x days.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from jira_pm.checks.context import CheckContext
from jira_pm.checks.scope import estimate_timeline, membership_timeline
from jira_pm.model import Issue, Sprint, Version

_OUT = object()  # membership before the issue existed


def day_range(first: date, last: date) -> list[date]:
    """Every calendar day from ``first`` to ``last``, both included."""
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _sweep(
    boundaries: Sequence[datetime],
    moments: Iterable[datetime],
    value_at: Callable[[datetime], tuple[float, ...]],
    totals: list[list[float]],
) -> None:
    """Add one issue's contribution at each boundary to ``totals`` (per series, differences)."""
    previous = (0.0,) * len(totals)
    for moment in sorted(set(moments)):
        index = bisect_left(boundaries, moment)
        if index >= len(boundaries):
            break
        value = value_at(moment)
        for series, (now, before) in enumerate(zip(value, previous, strict=True)):
            if now != before:
                totals[series][index] += now - before
        previous = value


def _running(differences: list[float]) -> list[float]:
    total, out = 0.0, []
    for step in differences:
        total += step
        out.append(round(total, 4))
    return out


def _moments(issue: Issue, *timelines) -> list[datetime]:
    found = [issue.created]
    for timeline in timelines:
        found.extend(step.at for step in timeline.steps)
    if issue.resolved_at is not None and issue.is_resolved:
        found.append(issue.resolved_at)
    return found


def _done_by(issue: Issue, moment: datetime) -> bool:
    # Jira's resolution date: an issue resolved now counts as done from then on.
    return issue.is_resolved and issue.resolved_at is not None and issue.resolved_at <= moment


def uses_points(issues: Iterable[Issue]) -> bool:
    """Story points where any of the issues carries them, else issue count."""
    return any(issue.story_points is not None for issue in issues)


@dataclass
class BurnUp:
    """Total and completed scope of a version at the end of each day."""

    days: list[date]
    unit: str  # "points" or "issues"
    total: list[float]
    done: list[float]


def version_start(ctx: CheckContext, version: Version) -> date | None:
    """The day a version's burn-up starts: its start date, else when jira-pm first saw it."""
    if version.start_date is not None:
        return version.start_date
    if version.first_seen is not None:
        return ctx.calendar.local_date(version.first_seen)
    return None


def burn_up(ctx: CheckContext, version: Version, last_day: date) -> BurnUp | None:
    """The version's burn-up from its start to ``last_day`` (None without a start)."""
    first = version_start(ctx, version)
    if first is None:
        return None
    first = min(first, last_day)  # not started yet: today's scope alone
    days = day_range(first, last_day)
    boundaries = [ctx.calendar.end_of_day(day) for day in days]
    issues = [i for i in ctx.index.ever_members("version").get(version.id, [])
              if not i.is_subtask and ctx.eligible(i)]
    points = uses_points(issues)
    totals = [[0.0] * len(days), [0.0] * len(days)]
    for issue in issues:
        members = membership_timeline(ctx, issue, "version")
        estimates = estimate_timeline(ctx, issue, "points")

        def value_at(moment, issue=issue, members=members, estimates=estimates):
            value = members.value_at(moment, _OUT)
            if value is _OUT or version.id not in value:
                return (0.0, 0.0)
            size = (estimates.value_at(moment) or 0.0) if points else 1.0
            return (size, size if _done_by(issue, moment) else 0.0)

        _sweep(boundaries, _moments(issue, members, estimates), value_at, totals)
    return BurnUp(days, "points" if points else "issues", _running(totals[0]),
                  _running(totals[1]))


@dataclass
class SprintScope:
    """A sprint's scope at the end of each day, split as Jira's sprint report splits it."""

    days: list[date]
    unit: str
    baseline: list[float]  # baseline scope still in the sprint, at its estimate at the start
    added: list[float]  # issues that came in after the start, at their estimate that day
    removed: list[float]  # baseline scope that left (its estimate at the start)
    re_estimated: list[float]  # estimate changes of baseline issues still in
    baseline_total: float = 0.0
    keys: dict[str, list[str]] = field(default_factory=dict)


def sprint_scope(ctx: CheckContext, sprint: Sprint, last_day: date) -> SprintScope | None:
    """Scope over time of a started sprint, from its start to ``last_day``."""
    if sprint.start is None:
        return None
    t0 = sprint.start
    first = ctx.calendar.local_date(t0)
    if first > last_day:
        return None
    days = day_range(first, last_day)
    boundaries = [ctx.calendar.end_of_day(day) for day in days]
    issues = [i for i in ctx.index.ever_members("sprint").get(sprint.id, [])
              if not i.is_subtask and ctx.eligible(i)]
    points = uses_points(issues)
    totals = [[0.0] * len(days) for _ in range(4)]
    baseline_total = 0.0
    for issue in issues:
        members = membership_timeline(ctx, issue, "sprint")
        estimates = estimate_timeline(ctx, issue, "points")

        def size(moment, estimates=estimates) -> float:
            return (estimates.value_at(moment) or 0.0) if points else 1.0

        def member(moment, members=members) -> bool:
            value = members.value_at(moment, _OUT)
            return value is not _OUT and sprint.id in value

        in_baseline = issue.created <= t0 and member(t0)
        at_start = size(t0) if in_baseline else 0.0
        baseline_total += at_start

        def value_at(moment, in_baseline=in_baseline, at_start=at_start, size=size,
                     member=member):
            inside = member(moment)
            if in_baseline:
                if inside:
                    return (at_start, 0.0, 0.0, size(moment) - at_start)
                return (0.0, 0.0, at_start, 0.0)
            return (0.0, size(moment) if inside else 0.0, 0.0, 0.0)

        moments = [max(m, t0) for m in _moments(issue, members, estimates)]
        _sweep(boundaries, moments, value_at, totals)
    baseline, added, removed, re_estimated = (_running(t) for t in totals)
    return SprintScope(days, "points" if points else "issues", baseline, added, removed,
                       re_estimated, baseline_total)


@dataclass
class Spend:
    """Cumulative spend of a budget at the end of each week (weeks end on Sunday)."""

    weeks: list[date]  # the Sunday each week ends on
    cumulative: list[float]


def weekly_spend(ctx: CheckContext, issues: Iterable[Issue], price: Callable, last_day: date
                 ) -> Spend:
    """Cumulative priced worklogs per week up to ``last_day``'s week.

    ``price(person_id, hours)`` is the budget's own pricing (hours, or money at the
    person's rate; None when it cannot be priced). An issue with time spent but no
    worklogs (not synced) counts in the last week: Jira gives no date for it.
    """
    dated: list[tuple[date, float]] = []
    undated = 0.0
    for issue in issues:
        if issue.worklogs:
            for worklog in issue.worklogs:
                value = price(worklog.author.id if worklog.author else None,
                              worklog.seconds / 3600.0)
                day = ctx.calendar.local_date(worklog.started)
                if value is not None and day <= last_day:
                    dated.append((day, value))
        elif issue.time_spent_seconds:
            value = price(None, issue.time_spent_seconds / 3600.0)
            undated += value or 0.0
    end = last_day + timedelta(days=6 - last_day.weekday())
    first = min((day for day, _ in dated), default=last_day)
    first_week = first + timedelta(days=6 - first.weekday())
    weeks = [first_week + timedelta(weeks=n) for n in range((end - first_week).days // 7 + 1)]
    per_week = [0.0] * len(weeks)
    for day, value in dated:
        index = min(bisect_left(weeks, day), len(weeks) - 1)
        per_week[index] += value
    per_week[-1] += undated
    return Spend(weeks, _running(per_week))
