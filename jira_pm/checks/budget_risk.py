"""BU003: a budget forecast to be overrun."""

from __future__ import annotations

from collections.abc import Iterator

from jira_pm.checks.budget import BUDGET_PARAMS, budget_hit, describe, eligible_statuses
from jira_pm.checks.context import CheckContext
from jira_pm.checks.history import ChangeNeeds
from jira_pm.checks.registry import Hit, check


@check(
    "budget_risk",
    label="budget-risk",
    severity="medium",
    params=BUDGET_PARAMS,
    title="Budget forecast to be overrun",
    changes=ChangeNeeds(),  # reads no changelog
)
def budget_risk(ctx: CheckContext) -> Iterator[Hit]:
    """Budget forecast to be overrun.

    What it flags:
        An epic, version or project not yet over budget whose actual spend plus
        the remaining estimate of its unresolved work exceeds the budget. An
        epic's budget labels the epic.

    Why it matters:
        The estimate already says the money or hours will not be enough; the
        earlier that is visible, the more options remain.

    How it is computed:
        Actuals as for BU001. The remaining work of each unresolved issue of the
        subject is its remaining estimate, else its original estimate minus
        the time logged (never below zero), else nothing. In money budgets it
        is priced at the assignee's rate (or the default rate). Flagged when
        actual < budget and actual + remaining > budget; once actual reaches the
        budget, BU002 reports it instead.

    Configuration:
        field_unit ("hours" | "money", default "hours"), warn_at (unused here),
        label_container_issues (bool, default false): as for BU001.

    Example:
        Epic ABC-12 has a 400 h budget, 300 h logged and 150 h remaining on its
        open stories: forecast 450 h > 400 h, so ABC-12 is labelled
        pm-budget-risk.
    """
    for status in eligible_statuses(ctx):
        if status.ratio < 1.0 and status.forecast > status.budget:
            yield budget_hit(
                status,
                f"{describe(status)} is forecast to overrun its budget: "
                f"{status.amount(status.actual)} spent + {status.amount(status.remaining)} "
                f"remaining > {status.amount(status.budget)}",
            )
