"""OD001: a version past its release date with unresolved issues."""

from __future__ import annotations

from collections.abc import Iterator

from jira_pm.checks.context import CheckContext
from jira_pm.checks.history import ChangeNeeds
from jira_pm.checks.overdue import deadline, keys, open_issues_of
from jira_pm.checks.registry import Hit, Param, check
from jira_pm.words import plural


@check(
    "version_overdue",
    label="overdue",
    severity="high",
    params=(
        Param("grace_days", "int", 0, "working days after the release date before it is late"),
    ),
    title="Version past its release date",
    changes=ChangeNeeds(),  # reads no changelog
)
def version_overdue(ctx: CheckContext) -> Iterator[Hit]:
    """Version past its release date.

    What it flags:
        An unreleased, unarchived version whose release date has passed (after
        the grace period) while it still has unresolved issues. Those unresolved
        issues get the label.

    Why it matters:
        A milestone that silently slips is the most common surprise in a
        project; the label lets anyone filter the late work with JQL.

    How it is computed:
        Dates are days in the configured time zone. The deadline is the release
        date plus grace_days working days of the working calendar (weekends and
        holidays do not count, so a Saturday release with one grace day is due
        on Monday). The version is late once "now" (or --as-of) falls on a day
        after the deadline. Resolved issues are never labelled; released or
        archived versions are never overdue, so their issues are never overdue
        through them.

    Configuration:
        grace_days (int, default 0): working days of grace after the release date.

    Example:
        Version "2.0" of ABC is due Friday 2026-05-29 with grace_days = 1 and
        two open issues. On Monday 2026-06-01 it is not late yet (Monday is the
        grace day); on Tuesday it is flagged and both issues are labelled
        pm-overdue.
    """
    grace = int(ctx.params["grace_days"])
    today = ctx.today
    for version in sorted(ctx.site.versions.values(), key=lambda v: v.id):
        if version.released or version.archived or version.release_date is None:
            continue
        if not ctx.project_in_scope(version.project_key):
            continue
        due = deadline(ctx, version.release_date, grace)
        if today <= due:
            continue
        issues = open_issues_of(ctx, version)
        if not issues:
            continue
        late = ctx.calendar.working_days_between(due, today)
        yield Hit(
            subject_type="version",
            subject_id=str(version.id),
            subject_name=version.name,
            project_key=version.project_key,
            message=(
                f"Version {version.project_key} {version.name!r} was due "
                f"{version.release_date.isoformat()} and is {plural(late, 'working day')} late "
                f"with {plural(len(issues), 'unresolved issue')}"
            ),
            evidence={
                "release_date": version.release_date.isoformat(),
                "grace_days": grace,
                "deadline": due.isoformat(),
                "today": today.isoformat(),
                "working_days_late": late,
                "unresolved": len(issues),
                "unresolved_keys": keys(issues),
            },
            issue_ids=tuple(issue.id for issue in issues),
        )
