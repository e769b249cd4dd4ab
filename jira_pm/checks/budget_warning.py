"""BU001: a budget nearly spent."""

from __future__ import annotations

from collections.abc import Iterator

from jira_pm.checks.budget import BUDGET_PARAMS, budget_hit, describe, eligible_statuses
from jira_pm.checks.context import CheckContext
from jira_pm.checks.history import ChangeNeeds
from jira_pm.checks.registry import Hit, check


@check(
    "budget_warning",
    label="budget-warning",
    severity="low",
    params=BUDGET_PARAMS,
    title="Budget nearly spent",
    changes=ChangeNeeds(),  # reads no changelog
)
def budget_warning(ctx: CheckContext) -> Iterator[Hit]:
    """Budget nearly spent.

    What it flags:
        An epic, version or project budget of which at least warn_at (default
        80%) but less than 100% is spent. An epic's budget labels the epic;
        version and project budgets are reported only (unless
        label_container_issues is true).

    Why it matters:
        The last fifth of a budget is where a plan can still change; at 100% the
        only news left is bad news.

    How it is computed:
        Budgets come from [[budget]] tables in jira-pm.toml (hours, or an amount
        of money) and from the epics' budget custom field ([fields] budget); a
        config budget wins over the field for the same epic. Actual spend is
        the sum of the worklogs of the subject and all its descendants: an
        epic's children (Cloud parent or Data Center Epic Link) and every
        sub-task of those, a version's issues and their sub-tasks, or every
        issue of a project. An issue without synced worklogs contributes its
        time spent. Money is hours x the author's rate from [rates.people], or
        [rates] default; hours nobody can price are reported as unpriced_hours
        and left out. A [[budget]] whose epic key names another kind of issue
        (a story) covers that issue and its sub-tasks, under its own type
        ("Story ABC-5"); one whose subject the store lacks is skipped. Both
        are reported once per run as a notice, and by jira-pm doctor.

    Configuration:
        field_unit ("hours" | "money", default "hours"): what the custom field holds.
        warn_at (float, default 0.8): warning fraction for custom-field budgets
        (config budgets carry their own warn_at).
        label_container_issues (bool, default false): label the unresolved
        issues of version and project budgets too.

    Example:
        Epic ABC-12 has hours = 400 in jira-pm.toml; its stories and their
        sub-tasks have 340 h of worklogs: 85% spent, so ABC-12 is labelled
        pm-budget-warning.
    """
    for status in eligible_statuses(ctx):
        if status.warn_at <= status.ratio < 1.0:
            yield budget_hit(
                status,
                f"{describe(status)} has spent {status.ratio:.0%} of its budget "
                f"({status.amount(status.actual)} of {status.amount(status.budget)})",
            )
