"""SC003: scope creep in an epic in progress."""

from __future__ import annotations

from collections.abc import Iterator

from jira_pm.checks import history
from jira_pm.checks.context import CheckContext
from jira_pm.checks.registry import Hit, check
from jira_pm.checks.scope import SCOPE_CHANGES, SCOPE_PARAMS, scope_creep
from jira_pm.model import CATEGORY_IN_PROGRESS


@check(
    "scope_creep_epic",
    label="scope-creep",
    severity="low",
    params=SCOPE_PARAMS,
    title="Scope creep in an epic in progress",
    changes=SCOPE_CHANGES | history.ChangeNeeds(epics=frozenset({"status"})),
)
def scope_creep_epic(ctx: CheckContext) -> Iterator[Hit]:
    """Scope creep in an epic in progress.

    What it flags:
        An epic whose status is in the "In Progress" category and whose child
        issues grew by more than the threshold since work on it began. Children
        added after that moment, and baseline children whose estimate grew, get
        the label.

    Why it matters:
        An epic is a promise about a body of work; once it is being built,
        new children are scope the estimate and the plan never saw.

    How it is computed:
        The baseline time T0 is the epic's first move into a status of the
        "In Progress" category, read from the status items of its changelog
        (status ids mapped with the site's status categories, or the status
        name when an item has no id); an epic with no such item uses its
        creation time. Membership is rebuilt from the parent items of each
        child's changelog: Cloud's IssueParentAssociation / Parent and Data
        Center's Epic Link (the epic's id, or its key when the id is missing).
        Added, re-estimated, removed, sub-tasks and the growth formula are as
        for SC001.

    Configuration:
        threshold (float, default 0.10): flag when growth exceeds this fraction.
        measure ("points" | "hours" | "issues", default "points").

    Example:
        Epic ABC-12 moved to "In Progress" on 2026-02-01 with 8 stories (30
        points). Since then 2 stories of 3 points each were linked to it:
        growth = 6 / 30 = 20% > 10%, so ABC-12 is flagged and both stories are
        labelled pm-scope-creep.
    """
    ever = ctx.index.ever_members("epic")
    by_name = ctx.index.status_names
    for epic in ctx.site.issues.values():
        if not epic.is_epic or epic.status_category != CATEGORY_IN_PROGRESS:
            continue
        # The epic is the container: the rule's issue types select its children.
        if ctx.exempt(epic) or not ctx.project_in_scope(epic.project_key):
            continue
        t0 = history.first_move_into_progress(
            epic, ctx.index.field_ids, ctx.site.status_categories, by_name
        )
        if t0 is None:
            t0 = epic.created
        if t0 > ctx.as_of:
            continue
        hit = scope_creep(
            ctx,
            subject_type="epic",
            subject_id=epic.id,
            subject_name=epic.key,
            label_name=f"Epic {epic.key}",
            project_key=epic.project_key,
            t0=t0,
            candidates=ever.get(epic.id, []),
            kind="epic",
            is_member=lambda value, eid=epic.id: value == eid,
        )
        if hit is not None:
            yield hit
