"""OD003: an unreleased version forecast to finish after its release date."""

from __future__ import annotations

import math
from collections.abc import Iterator

from jira_pm.checks.context import CheckContext
from jira_pm.checks.overdue import keys, open_issues_of
from jira_pm.checks.registry import Hit, Param, check
from jira_pm.words import plural


@check(
    "version_at_risk",
    label="at-risk",
    severity="medium",
    params=(
        Param("window_days", "int", 20, "working days of history the throughput is measured on"),
    ),
    title="Version forecast to miss its release date",
)
def version_at_risk(ctx: CheckContext) -> Iterator[Hit]:
    """Version forecast to miss its release date.

    What it flags:
        An unreleased, unarchived version, not yet past its release date, whose
        unresolved issues will not be done by that date at the project's recent
        pace. Its unresolved issues get the label.

    Why it matters:
        Knowing a release is in trouble two weeks early leaves room to cut
        scope or move the date; knowing it the day after does not.

    How it is computed:
        Throughput is the number of the project's issues (sub-tasks excluded)
        resolved in the last window_days working days (by the working calendar,
        like every "N days" setting), divided by window_days. The forecast finish is today plus
        ceil(remaining unresolved issues / throughput) working days. The version
        is at risk when the forecast falls after its release date, or when the
        project resolved nothing in the window while work remains. Versions
        already past their release date are left to OD001.

    Configuration:
        window_days (int, default 20): the throughput window, in working days
        (20 is four weeks without holidays).

    Example:
        Project ABC resolved 10 issues in the last 4 weeks (20 working days):
        0.5 issues a day. Version "3.1", due in 6 working days, has 5 open
        issues: 10 working days of work, so it is flagged and its issues are
        labelled pm-at-risk.
    """
    window = int(ctx.params["window_days"])
    today = ctx.today
    # The window ends now and reaches back `window` working days: it opens at the
    # end of the working day before its first one.
    start = ctx.calendar.end_of_day(ctx.calendar.add_working_days(today, -window))
    window_days = max(window, 1)
    throughput: dict[str, int] = {}
    for issue in ctx.site.issues.values():
        if issue.is_subtask or issue.resolved_at is None or not issue.is_resolved:
            continue
        if start < issue.resolved_at <= ctx.as_of:
            throughput[issue.project_key] = throughput.get(issue.project_key, 0) + 1

    for version in sorted(ctx.site.versions.values(), key=lambda v: v.id):
        if version.released or version.archived or version.release_date is None:
            continue
        if version.release_date < today or not ctx.project_in_scope(version.project_key):
            continue
        issues = open_issues_of(ctx, version)
        remaining = sum(1 for issue in issues if not issue.is_subtask)
        if not remaining:
            continue
        resolved = throughput.get(version.project_key, 0)
        per_day = resolved / window_days
        if per_day > 0:
            days_needed = math.ceil(remaining / per_day)
            finish = ctx.calendar.add_working_days(today, days_needed)
            if finish <= version.release_date:
                continue
            forecast = finish.isoformat()
            why = f"forecast to finish {forecast} at {per_day:.2f} issues per working day"
        else:
            days_needed = None
            forecast = None
            why = (f"nothing was resolved in project {version.project_key} in the last "
                   f"{plural(window, 'working day')}")
        yield Hit(
            subject_type="version",
            subject_id=str(version.id),
            subject_name=version.name,
            project_key=version.project_key,
            message=(
                f"Version {version.project_key} {version.name!r} is due "
                f"{version.release_date.isoformat()} with {plural(remaining, 'open issue')}, {why}"
            ),
            evidence={
                "release_date": version.release_date.isoformat(),
                "today": today.isoformat(),
                "remaining_issues": remaining,
                "resolved_in_window": resolved,
                "window_days": window,
                "window_working_days": window_days,
                "throughput_per_working_day": round(per_day, 4),
                "working_days_needed": days_needed,
                "forecast_finish": forecast,
                "unresolved_keys": keys(issues),
            },
            issue_ids=tuple(issue.id for issue in issues),
        )
