"""SC002: scope creep in an unreleased version."""

from __future__ import annotations

from collections.abc import Iterator

from jira_pm.checks.context import CheckContext
from jira_pm.checks.registry import Hit, check
from jira_pm.checks.scope import SCOPE_CHANGES, SCOPE_PARAMS, scope_creep


@check(
    "scope_creep_version",
    label="scope-creep",
    severity="medium",
    params=SCOPE_PARAMS,
    title="Scope creep in an unreleased version",
    changes=SCOPE_CHANGES,
)
def scope_creep_version(ctx: CheckContext) -> Iterator[Hit]:
    """Scope creep in an unreleased version.

    What it flags:
        An unreleased, unarchived fix version whose scope grew by more than the
        threshold since its baseline. Issues added to the version after the
        baseline, and baseline issues whose estimate grew, get the label.

    Why it matters:
        A release date was promised for a set of work; every issue added to the
        version afterwards eats into that date.

    How it is computed:
        The baseline time T0 is the version's start date at 00:00 in the
        configured time zone; a version without a start date uses the moment
        jira-pm first saw it (recorded in the store by the sync). Versions whose
        T0 is still in the future are skipped. Membership is rebuilt from the
        Fix Version items of the changelog (each adds or removes one version
        id), estimates from the estimate field's items. Added, re-estimated,
        removed, sub-tasks and the growth formula are as for SC001.

    Configuration:
        threshold (float, default 0.10): flag when growth exceeds this fraction.
        measure ("points" | "hours" | "issues", default "points").

    Example:
        Version "1.4" (start date 2026-03-02, Europe/Berlin) held 10 issues
        worth 50 points at 2026-03-02 00:00 CET. Four 2-point issues were added
        later: growth = 8 / 50 = 16% > 10%, so the version is flagged and the
        four issues are labelled pm-scope-creep.
    """
    ever = ctx.index.ever_members("version")
    for version in sorted(ctx.site.versions.values(), key=lambda v: v.id):
        if version.released or version.archived:
            continue
        if not ctx.project_in_scope(version.project_key):
            continue
        if version.start_date is not None:
            t0 = ctx.calendar.start_of_day(version.start_date)
        else:
            t0 = version.first_seen
        if t0 is None or t0 > ctx.as_of:
            continue
        hit = scope_creep(
            ctx,
            subject_type="version",
            subject_id=version.id,
            subject_name=version.name,
            label_name=f"Version {version.project_key} {version.name!r}",
            project_key=version.project_key,
            t0=t0,
            candidates=ever.get(version.id, []),
            kind="version",
            is_member=lambda value, vid=version.id: isinstance(value, frozenset) and vid in value,
        )
        if hit is not None:
            yield hit
