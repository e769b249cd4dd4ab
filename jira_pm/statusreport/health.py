"""Red / amber / green per project for schedule, scope and budget, with the reasons in words.

Each dimension is derived from the project's open findings: none is green;
any is amber; a version past its release date, a budget at or over 100%, or a
finding of severity high or critical is red.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from jira_pm.calendar import WorkingCalendar
from jira_pm.model import Finding, severity_rank
from jira_pm.words import plural

DIMENSIONS = ("schedule", "scope", "budget")
_DIMENSION = {
    "version_overdue": "schedule", "due_date_overdue": "schedule", "version_at_risk": "schedule",
    "scope_creep_sprint": "scope", "scope_creep_version": "scope", "scope_creep_epic": "scope",
    "budget_breach": "budget", "budget_risk": "budget", "budget_warning": "budget",
    "over_estimate": "budget",
}
_ALWAYS_RED = frozenset({"version_overdue", "budget_breach"})
MAX_REASONS = 3


def dimension_of(finding: Finding) -> str | None:
    """Which health a finding counts against (None for a plugin check it cannot place)."""
    return _DIMENSION.get(finding.check)


def reason(finding: Finding, calendar: WorkingCalendar) -> str:
    """Why, in a few words: '2.0 forecast 12 working days late'."""
    e, name = finding.evidence, finding.subject_name
    if finding.check == "version_at_risk":
        if not e.get("forecast_finish"):
            return f"{name}: no forecast (nothing resolved lately)"
        late = calendar.working_days_between(date.fromisoformat(e["release_date"]),
                                             date.fromisoformat(e["forecast_finish"]))
        return f"{name} forecast {plural(late, 'working day')} late"
    if finding.check == "version_overdue":
        return f"{name} {plural(int(e.get('working_days_late', 0)), 'working day')} past release"
    if finding.check.startswith("scope_creep") and "growth" in e:
        return f"{name} grew {float(e['growth']):.0%}"
    if finding.check in ("budget_breach", "budget_warning") and "spent_fraction" in e:
        return f"{name} spent {float(e['spent_fraction']):.0%} of its budget"
    if finding.check == "budget_risk" and e.get("budget"):
        return f"{name} forecast {float(e['forecast']) / float(e['budget']):.0%} of its budget"
    return finding.message


def project_health(findings: Iterable[Finding], calendar: WorkingCalendar) -> dict[str, dict]:
    """{dimension: {"status": "red"|"amber"|"green", "why": [reason, ...]}}."""
    grouped: dict[str, list[Finding]] = {d: [] for d in DIMENSIONS}
    for finding in findings:
        dimension = dimension_of(finding)
        if dimension:
            grouped[dimension].append(finding)
    health = {}
    for dimension, found in grouped.items():
        if not found:
            health[dimension] = {"status": "green", "why": ["no open findings"]}
            continue
        red = [f for f in found if f.check in _ALWAYS_RED
               or severity_rank(f.severity) >= severity_rank("high")]
        ordered = red + [f for f in found if f not in red]
        reasons = _merged(ordered, calendar)
        health[dimension] = {"status": "red" if red else "amber", "why": reasons}
    return health


def _merged(ordered: list[Finding], calendar: WorkingCalendar) -> list[str]:
    """At most MAX_REASONS reasons; due-date findings (one per issue) become one count."""
    due = sum(1 for f in ordered if f.check == "due_date_overdue")
    kept = [reason(f, calendar) for f in ordered if f.check != "due_date_overdue"]
    if due:
        kept.append(f"{plural(due, 'issue')} past {'its' if due == 1 else 'their'} due date")
    if len(kept) > MAX_REASONS:
        kept = kept[:MAX_REASONS] + [f"and {len(kept) - MAX_REASONS} more"]
    return kept
