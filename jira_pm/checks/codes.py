"""The central table of rule codes, like ruff's: one code per built-in check.

The code is also the id of the built-in rule that uses the check, so
``jira-pm rules explain SC001`` and a label's marker comment name the same thing.
Codes are never reused for a different meaning.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Code:
    code: str
    check: str
    title: str


CODES: tuple[Code, ...] = (
    Code("SC001", "scope_creep_sprint", "Scope creep in an active sprint"),
    Code("SC002", "scope_creep_version", "Scope creep in an unreleased version"),
    Code("SC003", "scope_creep_epic", "Scope creep in an epic in progress"),
    Code("OD001", "version_overdue", "Version past its release date"),
    Code("OD002", "due_date_overdue", "Issue or epic past its due date"),
    Code("OD003", "version_at_risk", "Version forecast to miss its release date"),
    Code("BU001", "budget_warning", "Budget nearly spent"),
    Code("BU002", "budget_breach", "Budget spent"),
    Code("BU003", "budget_risk", "Budget forecast to be overrun"),
    Code("BU004", "over_estimate", "Issue over its original estimate"),
)

CODE_BY_CHECK: dict[str, str] = {entry.check: entry.code for entry in CODES}
CHECK_BY_CODE: dict[str, str] = {entry.code: entry.check for entry in CODES}
