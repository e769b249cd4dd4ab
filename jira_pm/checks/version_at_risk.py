"""OD003: an unreleased version forecast to finish after its release date."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from jira_pm import forecast as mc
from jira_pm.checks.context import CheckContext
from jira_pm.checks.history import ChangeNeeds
from jira_pm.checks.overdue import keys, open_issues_of
from jira_pm.checks.registry import Hit, Param, check
from jira_pm.model import Issue
from jira_pm.words import day_text, plural


@check(
    "version_at_risk",
    label="at-risk",
    severity="medium",
    params=(
        Param("window_days", "int", mc.DEFAULT_WINDOW,
              "working days of history the daily throughput is sampled from"),
        Param("percentile", "int", 85,
              "the forecast percentile that must land by the release date",
              choices=mc.PERCENTILES),
        Param("trials", "int", mc.DEFAULT_TRIALS, "Monte Carlo trials per version"),
        Param("seed", "int", mc.DEFAULT_SEED, "random seed, so the verdict is reproducible"),
    ),
    title="Version forecast to miss its release date",
    changes=ChangeNeeds(),  # reads no changelog
)
def version_at_risk(ctx: CheckContext) -> Iterator[Hit]:
    """Version forecast to miss its release date.

    What it flags:
        An unreleased, unarchived version, not yet past its release date, whose
        unresolved issues are forecast to be done after that date. Its
        unresolved issues get the label.

    Why it matters:
        Knowing a release is in trouble two weeks early leaves room to cut
        scope or move the date; knowing it the day after does not.

    How it is computed:
        A Monte Carlo forecast, the method of ActionableAgile and
        jira-agile-metrics. The project's daily throughput is sampled from
        its last window_days working days (issues resolved each day, sub-tasks
        excluded; a resolution on a weekend or holiday counts for the next
        working day). The version's remaining unresolved issues are then
        simulated trials times: every future working day draws one of the
        sampled days at random, until the work is done. The version is at risk
        when the chosen percentile of the simulated finishing dates falls after
        its release date, or when the project resolved nothing in the window
        while work remains (there is then no forecast at all). The random
        generator is seeded, so the same store gives the same verdict; `jira-pm
        report` draws the same forecast. Versions already past their release
        date are left to OD001. Earlier releases divided the window's total by
        its length (an average pace); the simulation replaces it, because an
        average hides how uneven throughput is and gives one date where a
        range is the honest answer.

    Configuration:
        window_days (int, default 30): the sampled history, in working days.
        percentile (50 | 85 | 95, default 85): the forecast that must land by
        the release date (85 means "85% of simulations finish by then").
        trials (int, default 10000) and seed (int, default 1): the simulation's
        size and random seed.

    Example:
        Project ABC resolved 2 issues on each of its last 30 working days.
        Version "3.1", due in 6 working days, has 15 open issues: every
        simulation needs 8 working days, so the 85th percentile lands 2 working
        days after the release date; the version is flagged and its issues are
        labelled pm-at-risk.
    """
    window = int(ctx.params["window_days"])
    percentile = int(ctx.params["percentile"])
    today = ctx.today
    resolved_by_project: dict[str, list[Issue]] = defaultdict(list)
    for issue in ctx.site.issues.values():
        if issue.resolved_at is not None:
            resolved_by_project[issue.project_key].append(issue)
    sampled: dict[str, mc.Throughput] = {}

    for version in sorted(ctx.site.versions.values(), key=lambda v: v.id):
        if version.released or version.archived or version.release_date is None:
            continue
        if version.release_date < today or not ctx.project_in_scope(version.project_key):
            continue
        issues = open_issues_of(ctx, version)
        remaining = sum(1 for issue in issues if not issue.is_subtask)
        if not remaining:
            continue
        project = version.project_key
        if project not in sampled:
            sampled[project] = mc.throughput(resolved_by_project.get(project, ()),
                                             ctx.calendar, ctx.as_of, window)
        result = mc.forecast(remaining, sampled[project], ctx.calendar, today,
                             trials=int(ctx.params["trials"]), seed=int(ctx.params["seed"]))
        finish = result.date_at(percentile)
        if result.available and finish is not None and finish <= version.release_date:
            continue
        if not result.available:
            why = (f"no forecast: nothing was resolved in project {project} in the last "
                   f"{plural(window, 'working day')}")
        elif finish is None:
            why = f"the {percentile}th percentile forecast is more than ten years away"
        else:
            late = ctx.calendar.working_days_between(version.release_date, finish)
            why = (f"{percentile}th percentile forecast {day_text(finish)}, "
                   f"{plural(late, 'working day')} late")
        yield Hit(
            subject_type="version",
            subject_id=str(version.id),
            subject_name=version.name,
            project_key=project,
            message=(
                f"Version {project} {version.name!r} is due {day_text(version.release_date)} "
                f"with {plural(remaining, 'open issue')}: {why}"
            ),
            evidence={
                "release_date": version.release_date.isoformat(),
                "today": today.isoformat(),
                "remaining_issues": remaining,
                "resolved_in_window": result.throughput.total,
                "window_working_days": len(result.throughput.counts),
                "throughput_per_working_day": round(result.throughput.per_day, 4),
                "percentile": percentile,
                "trials": result.trials,
                "seed": result.seed,
                "forecast": {str(p): (d.isoformat() if d else None)
                             for p, d in result.dates.items()},
                "forecast_finish": finish.isoformat() if finish else None,
                "unresolved_keys": keys(issues),
            },
            issue_ids=tuple(issue.id for issue in issues),
        )
