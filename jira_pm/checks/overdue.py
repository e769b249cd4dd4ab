"""Shared pieces of the overdue checks: unresolved issues of a version, lateness."""

from __future__ import annotations

from datetime import date

from jira_pm.checks.context import CheckContext
from jira_pm.model import Issue, Version


def open_issues_of(ctx: CheckContext, version: Version) -> list[Issue]:
    """Unresolved, eligible issues whose fix versions include ``version`` (sub-tasks too)."""
    return sorted(
        (
            issue
            for issue in ctx.index.version_issues.get(version.id, [])
            if not issue.is_resolved and ctx.eligible(issue)
        ),
        key=lambda i: i.id,
    )


def deadline(ctx: CheckContext, day: date, grace_days: int) -> date:
    """The last day that is not late: ``day`` plus ``grace_days`` working days."""
    return ctx.calendar.add_working_days(day, grace_days)


def keys(issues: list[Issue], limit: int = 50) -> list[str]:
    return [issue.key for issue in issues[:limit]]
