"""Shared budget arithmetic: which budgets exist, what was spent, what remains.

Budgets come from ``settings.budgets`` (epic, version or project; hours or
money) and from the budget custom field of epics (``Issue.budget``); a config
budget wins over the field for the same epic. Actuals are the worklogs of the
subject and all its descendants; money is hours x the author's rate.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from jira_pm.checks.context import CheckContext
from jira_pm.checks.registry import Hit, Param
from jira_pm.model import Issue, Site

BUDGET_PARAMS = (
    Param(
        "field_unit",
        "str",
        "hours",
        "what the epics' budget custom field holds: hours or money (with [rates])",
        choices=("hours", "money"),
    ),
    Param("warn_at", "float", 0.8, "warning fraction for budgets from the custom field"),
    Param(
        "label_container_issues",
        "bool",
        False,
        "also label the unresolved issues of version and project budgets",
    ),
)


@dataclass
class BudgetStatus:
    """One budget and where it stands now."""

    subject_type: str  # "epic", "issue" (a budget on a non-epic issue), "version" or "project"
    subject_id: str
    subject_name: str
    project_key: str | None
    unit: str  # "hours" or "money"
    budget: float
    warn_at: float
    source: str  # "config" or "field"
    actual: float
    remaining: float
    issues: list[Issue]  # the subject's issues, the epic itself included
    label_ids: tuple[int, ...]
    unpriced_hours: float = 0.0
    currency: str | None = None
    people: dict[str, float] = field(default_factory=dict)
    noun: str = ""  # what messages call the subject: "Epic", "Story", "Version", "Project"

    @property
    def ratio(self) -> float:
        return self.actual / self.budget if self.budget > 0 else float("inf")

    @property
    def forecast(self) -> float:
        return self.actual + self.remaining

    def evidence(self) -> dict[str, Any]:
        return {
            "budget": self.budget,
            "unit": self.unit,
            "currency": self.currency if self.unit == "money" else None,
            "source": self.source,
            "actual": round(self.actual, 2),
            "spent_fraction": round(self.ratio, 4),
            "warn_at": self.warn_at,
            "remaining_estimate": round(self.remaining, 2),
            "forecast": round(self.forecast, 2),
            "issues_counted": len(self.issues),
            "unpriced_hours": round(self.unpriced_hours, 2),
            "by_person": {k: round(v, 2) for k, v in sorted(self.people.items())},
            "subject_kind": self.noun,
        }

    def amount(self, value: float) -> str:
        if self.unit == "hours":
            return f"{value:,.1f} h"
        return f"{value:,.2f} {self.currency or ''}".strip()


def _rates(settings) -> tuple[float | None, dict[str, float], str | None]:
    rates = getattr(settings, "rates", None)
    if rates is None:
        return None, {}, None
    return (
        getattr(rates, "default", None),
        dict(getattr(rates, "people", {}) or {}),
        getattr(rates, "currency", None),
    )


def _epic_issues(ctx: CheckContext, epic: Issue) -> list[Issue]:
    found = [epic, *ctx.index.epic_children.get(epic.id, [])]
    return _with_subtasks(ctx, found)


def _with_subtasks(ctx: CheckContext, issues: Iterable[Issue]) -> list[Issue]:
    seen: dict[int, Issue] = {}
    for issue in issues:
        seen[issue.id] = issue
        for sub in ctx.index.subtasks.get(issue.id, []):
            seen[sub.id] = sub
    return sorted(seen.values(), key=lambda i: i.id)


def pricer(settings, unit: str) -> Callable[[str | None, float], float | None]:
    """``price(person_id, hours)``: hours as they are, or money at the person's rate
    (else the default rate; None when neither is set)."""
    default_rate, people_rates, _ = _rates(settings)

    def price(person_id: str | None, hours: float) -> float | None:
        if unit == "hours":
            return hours
        rate = people_rates.get(person_id) if person_id else None
        if rate is None:
            rate = default_rate
        return None if rate is None else hours * rate

    return price


def _spend(
    ctx: CheckContext, issues: list[Issue], unit: str
) -> tuple[float, float, float, dict[str, float]]:
    """Actual spend, remaining estimate of unresolved work, unpriced hours, spend by person."""
    price = pricer(ctx.settings, unit)
    actual = 0.0
    remaining = 0.0
    unpriced = 0.0
    by_person: dict[str, float] = {}

    for issue in issues:
        # Worklogs when synced; an issue without them still has Jira's time spent.
        entries: list[tuple[str | None, int]] = [
            (w.author.id if w.author else None, w.seconds) for w in issue.worklogs
        ]
        if not entries and issue.time_spent_seconds:
            entries = [(None, issue.time_spent_seconds)]
        for person_id, seconds in entries:
            hours = seconds / 3600.0
            value = price(person_id, hours)
            if value is None:
                unpriced += hours
                continue
            actual += value
            who = person_id or "(unknown)"
            by_person[who] = by_person.get(who, 0.0) + value
        if issue.is_resolved:
            continue
        left = issue.remaining_estimate_seconds
        if left is None and issue.original_estimate_seconds is not None:
            spent = sum(s for _, s in entries)
            left = max(issue.original_estimate_seconds - spent, 0)
        if left:
            assignee = issue.assignee.id if issue.assignee else None
            value = price(assignee, left / 3600.0)
            if value is not None:
                remaining += value
    return actual, remaining, unpriced, by_person


def budget_statuses(ctx: CheckContext) -> Iterator[BudgetStatus]:
    """Every budget the settings and the epics' custom field define, with its spend."""
    settings = ctx.settings
    _, _, currency = _rates(settings)
    label_containers = bool(ctx.params.get("label_container_issues", False))
    configured_epics: set[int] = set()
    for entry in getattr(settings, "budgets", ()) or ():
        unit = "hours" if entry.hours is not None else "money"
        limit = entry.hours if entry.hours is not None else entry.amount
        if limit is None:
            continue
        if entry.kind == "epic":
            epic = ctx.index.by_key.get(entry.ref)
            if epic is None:  # reported once per evaluation by budget_problems
                continue
            configured_epics.add(epic.id)
            yield _epic_status(ctx, epic, unit, float(limit), entry.warn_at, "config", currency)
        elif entry.kind == "version":
            version = _find_version(ctx, entry.ref, entry.project)
            if version is None:  # reported once per evaluation by budget_problems
                continue
            if not ctx.project_in_scope(version.project_key):
                continue
            issues = _with_subtasks(ctx, ctx.index.version_issues.get(version.id, []))
            issues = [i for i in issues if not ctx.exempt(i)]
            yield _status(
                ctx, "version", str(version.id), version.name, version.project_key, unit,
                float(limit), entry.warn_at, "config", currency, issues,
                _open_ids(ctx, issues) if label_containers else (),
            )
        elif entry.kind == "project":
            project = entry.ref
            if not ctx.project_in_scope(project):
                continue
            issues = sorted(
                (i for i in ctx.site.issues.values()
                 if i.project_key == project and not ctx.exempt(i)),
                key=lambda i: i.id,
            )
            yield _status(
                ctx, "project", project, project, project, unit, float(limit), entry.warn_at,
                "config", currency, issues, _open_ids(ctx, issues) if label_containers else (),
            )
    field_unit = ctx.params.get("field_unit", "hours")
    warn_at = float(ctx.params.get("warn_at", 0.8))
    for issue in ctx.site.issues.values():
        if issue.is_epic and issue.budget is not None and issue.id not in configured_epics:
            if issue.budget > 0:
                yield _epic_status(ctx, issue, field_unit, float(issue.budget), warn_at, "field",
                                   currency)


def _open_ids(ctx: CheckContext, issues: list[Issue]) -> tuple[int, ...]:
    return tuple(i.id for i in issues if not i.is_resolved and ctx.eligible(i))


def _find_version(ctx: CheckContext, name: str, project: str | None):
    matches = [
        v for v in ctx.site.versions.values()
        if v.name == name and (project is None or v.project_key == project)
    ]
    return matches[0] if len(matches) == 1 else None


def _epic_status(ctx, epic, unit, limit, warn_at, source, currency) -> BudgetStatus | None:
    # `epic = "PAY-12"` may name a story: its budget still counts (the issue and its
    # sub-tasks), but it is reported as what it is, never as an epic.
    issues = _epic_issues(ctx, epic)
    labels = (epic.id,) if not ctx.exempt(epic) else ()
    subject_type, noun = ("epic", "Epic") if epic.is_epic else ("issue", epic.issue_type)
    return _status(ctx, subject_type, str(epic.id), epic.key, epic.project_key, unit, limit,
                   warn_at, source, currency, issues, labels, noun=noun)


def _status(ctx, subject_type, subject_id, name, project, unit, limit, warn_at, source,
            currency, issues, label_ids, *, noun: str | None = None) -> BudgetStatus:
    actual, remaining, unpriced, people = _spend(ctx, issues, unit)
    return BudgetStatus(
        subject_type=subject_type, subject_id=subject_id, subject_name=name,
        project_key=project, unit=unit, budget=limit, warn_at=warn_at, source=source,
        actual=actual, remaining=remaining, issues=issues, label_ids=tuple(label_ids),
        unpriced_hours=unpriced, currency=currency, people=people,
        noun=noun or subject_type.capitalize(),
    )


def eligible_statuses(ctx: CheckContext) -> list[BudgetStatus]:
    """Budgets whose subject the rule may report on (scope and exemptions applied).

    The budget rules of a pack usually share their parameters and scope: the
    statuses are computed once per site for each combination of what they read
    (the rule's parameters, projects and issue types; the rest is the site's).
    """
    params = ctx.params
    key = ("budget statuses", params.get("field_unit", "hours"),
           float(params.get("warn_at", 0.8)), bool(params.get("label_container_issues", False)),
           ctx.project_scope, tuple(getattr(ctx.rule, "issue_types", ()) or ()))
    found = ctx.index.shared.get(key)
    if found is None:
        found = ctx.index.shared[key] = list(_eligible_statuses(ctx))
    return found


def _eligible_statuses(ctx: CheckContext) -> Iterator[BudgetStatus]:
    for status in budget_statuses(ctx):
        if status is None or not ctx.project_in_scope(status.project_key):
            continue
        if status.subject_type in ("epic", "issue"):
            epic = ctx.site.issues[int(status.subject_id)]
            if ctx.exempt(epic):
                continue
        yield status


def budget_hit(status: BudgetStatus, message: str) -> Hit:
    return Hit(
        subject_type=status.subject_type,
        subject_id=status.subject_id,
        subject_name=status.subject_name,
        project_key=status.project_key,
        message=message,
        evidence=status.evidence(),
        issue_ids=status.label_ids,
    )


def describe(status: BudgetStatus) -> str:
    """The subject as messages name it: "Epic ABC-12", "Story PAY-12", "Version ABC '1.4'"."""
    if status.subject_type == "version":
        return f"Version {status.project_key} {status.subject_name!r}"
    return f"{status.noun} {status.subject_name}"


def budget_problems(site: Site, settings: Any) -> list[str]:
    """One line per [[budget]] that is accepted but wrong: its subject is missing or no epic.

    Computed once per evaluation (not per budget rule), so a run reports each
    problem once. A missing subject's budget is skipped; a non-epic issue's
    budget still counts, under the issue's own type.
    """
    by_key = {issue.key: issue for issue in site.issues.values()}
    where = _config_name(settings)
    problems = []
    for number, entry in enumerate(getattr(settings, "budgets", ()) or (), start=1):
        table = f"[[budget]] #{number} in {where}"
        if entry.kind == "epic":
            issue = by_key.get(entry.ref)
            if issue is None:
                problems.append(
                    f"{table}: epic = {entry.ref!r} is not in the store, so its budget is "
                    "skipped — correct the key, or bring its project into [scope] and sync")
            elif not issue.is_epic:
                problems.append(
                    f"{table}: epic = {entry.ref!r} is a {issue.issue_type}, not an epic; its "
                    f"budget counts the {issue.issue_type.lower()} and its sub-tasks only — "
                    "name the epic it belongs to if that was meant")
        elif entry.kind == "version":
            found = [v for v in site.versions.values()
                     if v.name == entry.ref and v.project_key == entry.project]
            if len(found) != 1:
                problems.append(
                    f"{table}: version = {entry.ref!r} in project {entry.project} is not in the "
                    "store, so its budget is skipped — correct the version name or project")
    return problems


def _config_name(settings: Any) -> str:
    source = getattr(settings, "source", None)
    return str(source) if source is not None else "the configuration"
