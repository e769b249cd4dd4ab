"""SC001: scope creep in an active sprint."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from jira_pm.checks.context import CheckContext
from jira_pm.checks.registry import Hit, check
from jira_pm.checks.scope import SCOPE_CHANGES, SCOPE_PARAMS, scope_creep


@check(
    "scope_creep_sprint",
    label="scope-creep",
    severity="medium",
    params=SCOPE_PARAMS,
    title="Scope creep in an active sprint",
    changes=SCOPE_CHANGES,
)
def scope_creep_sprint(ctx: CheckContext) -> Iterator[Hit]:
    """Scope creep in an active sprint.

    What it flags:
        An active sprint whose committed work grew by more than the threshold
        since the sprint started. The issues added to the sprint after its start
        and the issues whose estimate grew after the start get the label.

    Why it matters:
        Work pulled into a running sprint is work the team did not plan for; the
        sprint goal slips silently unless someone sees the growth early.

    How it is computed:
        The baseline time T0 is the sprint's start. For every issue that is or
        ever was in the sprint, its Sprint field and estimate are rebuilt from
        the changelog, replaying backwards from the current value. An issue in
        the sprint at T0 (even one added the day before) is baseline scope; one
        that entered after T0 and is still in is added; a baseline issue whose
        estimate is higher now than at T0 is re-estimated (lower estimates are
        reported, never netted); baseline issues that left are reported as
        removed. Issues created straight into the sprint after T0 count as
        added. Sub-tasks are ignored: they carry no points. Growth = (estimates
        of added issues + estimate increases) / baseline estimate; with no
        estimates in the baseline it falls back to the issue count. A sprint
        that was empty at its start is not flagged. With --as-of, "now" is
        also replayed from the changelog: the sprint is judged as it stood then.
        Each added issue in the evidence says when, by whom and how it came in:
        added_how "added" names the author of the changelog item that put it
        in; "created in it" (no such item: the issue was created with the
        sprint set) names the issue's creator, else its reporter. Each
        re-estimated issue says when and by whom its estimate last changed
        (changed_at, changed_by).

    Configuration:
        threshold (float, default 0.10): flag when growth exceeds this fraction.
        measure ("points" | "hours" | "issues", default "points"): story points,
        original estimates in hours, or the issue count.

    Example:
        Sprint "Team A 42" started with 40 points. Two stories of 3 and 5 points
        were added on day 2 and a baseline story grew from 2 to 5 points:
        growth = (3 + 5 + 3) / 40 = 27.5% > 10%, so the sprint is flagged and
        the three stories are labelled pm-scope-creep.
    """
    ever = ctx.index.ever_members("sprint")
    for sprint in sorted(ctx.site.sprints.values(), key=lambda s: s.id):
        if sprint.state != "active" or sprint.start is None or sprint.start > ctx.as_of:
            continue
        candidates = ever.get(sprint.id, [])
        projects = Counter(issue.project_key for issue in candidates)
        if ctx.project_scope:
            candidates = [i for i in candidates if ctx.project_in_scope(i.project_key)]
        hit = scope_creep(
            ctx,
            subject_type="sprint",
            subject_id=sprint.id,
            subject_name=sprint.name,
            label_name=f"Sprint {sprint.name!r}",
            project_key=projects.most_common(1)[0][0] if projects else None,
            t0=sprint.start,
            candidates=candidates,
            kind="sprint",
            is_member=lambda value, sid=sprint.id: isinstance(value, frozenset) and sid in value,
        )
        if hit is not None:
            yield hit
