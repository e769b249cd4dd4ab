"""OD002: an unresolved issue or epic past its due date."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from jira_pm.checks.context import CheckContext
from jira_pm.checks.history import ChangeNeeds
from jira_pm.checks.overdue import deadline
from jira_pm.checks.registry import Hit, Param, check
from jira_pm.words import plural


@check(
    "due_date_overdue",
    label="overdue",
    severity="medium",
    params=(Param("grace_days", "int", 0, "working days after the due date before it is late"),),
    title="Issue or epic past its due date",
    changes=ChangeNeeds(),  # reads no changelog
)
def due_date_overdue(ctx: CheckContext) -> Iterator[Hit]:
    """Issue or epic past its due date.

    What it flags:
        Every unresolved issue (epics and sub-tasks included) whose due date has
        passed. The issue itself gets the label.

    Why it matters:
        A due date is a promise to someone; once it has passed unnoticed, the
        person waiting learns it from the calendar instead of the team.

    How it is computed:
        The due date is a day in the configured time zone; the issue is late
        once "now" (or --as-of) falls on a day after the due date plus
        grace_days working days. Resolved issues (a resolution, or a status in
        the Done category) are never overdue.

    Configuration:
        grace_days (int, default 0): working days of grace after the due date.

    Example:
        ABC-7 is due 2026-04-10 and still "In Progress" on 2026-04-11: it is
        flagged and labelled pm-overdue. Once resolved, the finding resolves and
        the label is removed.
    """
    grace = int(ctx.params["grace_days"])
    today = ctx.today
    today_text = today.isoformat()
    # By due date: a million issues share a few hundred due dates (and the dates'
    # text is held once, not once per finding).
    lateness: dict[date, tuple[date, int, str, str]] = {}
    for issue in ctx.site.issues.values():  # the engine sorts the findings
        if issue.due_date is None or issue.is_resolved or not ctx.eligible(issue):
            continue
        known = lateness.get(issue.due_date)
        if known is None:
            due = deadline(ctx, issue.due_date, grace)
            known = lateness[issue.due_date] = (
                due, ctx.calendar.working_days_between(due, today) if today > due else 0,
                issue.due_date.isoformat(), due.isoformat())
        due, late, due_text, deadline_text = known
        if today <= due:
            continue
        kind = "epic" if issue.is_epic else "issue"
        yield Hit(
            subject_type=kind,
            subject_id=str(issue.id),
            subject_name=issue.key,
            project_key=issue.project_key,
            message=(
                f"{'Epic' if issue.is_epic else 'Issue'} {issue.key} was due "
                f"{due_text} and is {plural(late, 'working day')} late "
                f"(status {issue.status!r})"
            ),
            evidence={
                "due_date": due_text,
                "grace_days": grace,
                "deadline": deadline_text,
                "today": today_text,
                "working_days_late": late,
                "status": issue.status,
            },
            issue_ids=(issue.id,),
        )
