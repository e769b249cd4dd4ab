"""BU002: a budget spent."""

from __future__ import annotations

from collections.abc import Iterator

from jira_pm.checks.budget import BUDGET_PARAMS, budget_hit, describe, eligible_statuses
from jira_pm.checks.context import CheckContext
from jira_pm.checks.history import ChangeNeeds
from jira_pm.checks.registry import Hit, check


@check(
    "budget_breach",
    label="budget-breach",
    severity="high",
    params=BUDGET_PARAMS,
    title="Budget spent",
    changes=ChangeNeeds(),  # reads no changelog
)
def budget_breach(ctx: CheckContext) -> Iterator[Hit]:
    """Budget spent.

    What it flags:
        An epic, version or project whose actual spend is at or over 100% of its
        budget. An epic's budget labels the epic; version and project budgets
        are reported only (unless label_container_issues is true).

    Why it matters:
        Spending past a budget needs someone's decision; the label makes sure
        that someone hears about it the day it happens.

    How it is computed:
        As for BU001 (budgets from config or the epics' custom field; actuals
        from the worklogs of the subject and all descendants, priced per
        person in money budgets), flagged when actual >= budget.

    Configuration:
        field_unit ("hours" | "money", default "hours"), warn_at (unused here),
        label_container_issues (bool, default false): as for BU001.

    Example:
        Epic ABC-12's custom field Budget is 10000 (field_unit = "money"); Ana
        (120/h) logged 50 h and Ben (default 95/h) logged 45 h: 6000 + 4275 =
        10275 >= 10000, so ABC-12 is labelled pm-budget-breach.
    """
    for status in eligible_statuses(ctx):
        if status.ratio >= 1.0:
            yield budget_hit(
                status,
                f"{describe(status)} is over budget: {status.amount(status.actual)} spent of "
                f"{status.amount(status.budget)} ({status.ratio:.0%})",
            )
