"""BU004: an issue over its own original estimate."""

from __future__ import annotations

from collections.abc import Iterator

from jira_pm.checks.context import CheckContext
from jira_pm.checks.history import ChangeNeeds
from jira_pm.checks.registry import Hit, Param, check


@check(
    "over_estimate",
    label="over-estimate",
    severity="low",
    params=(
        Param("tolerance", "float", 0.2, "fraction above the original estimate that is tolerated"),
    ),
    title="Issue over its original estimate",
    changes=ChangeNeeds(),  # reads no changelog
)
def over_estimate(ctx: CheckContext) -> Iterator[Hit]:
    """Issue over its original estimate.

    What it flags:
        An issue (sub-tasks included) whose logged time exceeds its original
        estimate by more than the tolerance. The issue gets the label.

    Why it matters:
        An issue that has blown through its estimate is either bigger than
        thought or stuck; either way someone should look before it doubles.

    How it is computed:
        Time spent is the sum of the issue's own worklogs (its time spent when
        no worklogs were synced). It is flagged when time spent > original
        estimate x (1 + tolerance). An issue with no original estimate (or an
        estimate of zero) is never over its estimate. Resolved issues are
        flagged too: the overrun stays a fact after the work is done.

    Configuration:
        tolerance (float, default 0.2): 20% over the estimate is still fine.

    Example:
        ABC-9 was estimated at 10 h and has 12.5 h logged: 12.5 > 10 x 1.2, so
        it is labelled pm-over-estimate. With 11.5 h it would not be.
    """
    tolerance = float(ctx.params["tolerance"])
    for issue in ctx.site.issues.values():  # the engine sorts the findings
        estimate = issue.original_estimate_seconds
        if not estimate or not ctx.eligible(issue):
            continue
        if issue.worklogs:
            spent = sum(w.seconds for w in issue.worklogs)
        else:
            spent = issue.time_spent_seconds or 0
        if spent <= estimate * (1 + tolerance):
            continue
        over = spent / estimate - 1
        yield Hit(
            subject_type="issue",
            subject_id=str(issue.id),
            subject_name=issue.key,
            project_key=issue.project_key,
            message=(
                f"Issue {issue.key} has {spent / 3600:.1f} h logged against an original "
                f"estimate of {estimate / 3600:.1f} h ({over:.0%} over, tolerance {tolerance:.0%})"
            ),
            evidence={
                "original_estimate_hours": round(estimate / 3600, 2),
                "time_spent_hours": round(spent / 3600, 2),
                "over_fraction": round(over, 4),
                "tolerance": tolerance,
            },
            issue_ids=(issue.id,),
        )
