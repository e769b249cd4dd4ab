"""Overdue milestones (OD001-OD003): hand-built scenarios in, exact findings out."""

from __future__ import annotations

from datetime import date, timedelta

from jira_pm.calendar import WorkingCalendar
from jira_pm.checks.testing import at, day, issue, run_check, site
from jira_pm.model import CATEGORY_DONE, Version


def version(**kw):
    defaults = dict(id=50, project_key="ABC", name="2.0", start_date=None,
                    release_date=day("2026-05-29"), released=False, archived=False)
    defaults.update(kw)
    return Version(**defaults)


def done(issue_id, **kw):
    return issue(issue_id, status="Done", status_category=CATEGORY_DONE, resolution="Done", **kw)


def test_version_past_release_labels_only_its_unresolved_issues():
    """A late version labels its unresolved issues and never its resolved ones."""
    s = site(
        issue(1, fix_version_ids=(50,)),
        done(2, fix_version_ids=(50,)),
        issue(3, fix_version_ids=(50,), is_subtask=True, parent_id=1),
        issue(4),
        versions=[version()],
    )
    [hit] = run_check("version_overdue", s, "2026-06-02T10:00")
    assert hit.subject_type == "version" and hit.subject_id == "50"
    assert hit.issue_ids == (1, 3)
    assert hit.evidence["working_days_late"] == 2
    assert hit.evidence["unresolved_keys"] == ["ABC-1", "ABC-3"]


def test_version_on_its_release_day_is_not_late():
    """The release date itself is not late; the day after is."""
    s = site(issue(1, fix_version_ids=(50,)), versions=[version()])
    assert run_check("version_overdue", s, "2026-05-29T23:00") == []
    assert len(run_check("version_overdue", s, "2026-05-30T00:30")) == 1


def test_released_archived_or_finished_versions_are_never_overdue():
    """Released or archived versions, and versions with nothing open, are not overdue."""
    for v in (version(released=True), version(archived=True)):
        s = site(issue(1, fix_version_ids=(50,)), versions=[v])
        assert run_check("version_overdue", s, "2026-07-01") == []
    s = site(done(1, fix_version_ids=(50,)), versions=[version()])
    assert run_check("version_overdue", s, "2026-07-01") == []


def test_weekend_release_with_grace_days_lands_on_working_days():
    """A Saturday release with one grace day is due Monday, so Tuesday is the first late day."""
    s = site(issue(1, fix_version_ids=(50,)), versions=[version(release_date=day("2026-05-30"))])
    assert run_check("version_overdue", s, "2026-06-01T20:00", {"grace_days": 1}) == []
    [hit] = run_check("version_overdue", s, "2026-06-02T08:00", {"grace_days": 1})
    assert hit.evidence["deadline"] == "2026-06-01"
    assert hit.evidence["working_days_late"] == 1


def test_holiday_after_release_extends_the_grace():
    """A holiday inside the grace period is not a working day."""
    cal = WorkingCalendar(holidays=frozenset({date(2026, 6, 1)}))
    s = site(issue(1, fix_version_ids=(50,)), versions=[version()])
    assert run_check("version_overdue", s, "2026-06-02T20:00", {"grace_days": 1},
                     calendar=cal) == []
    [hit] = run_check("version_overdue", s, "2026-06-03T08:00", {"grace_days": 1}, calendar=cal)
    assert hit.evidence["deadline"] == "2026-06-02"


def test_release_date_near_midnight_berlin_versus_utc():
    """At 23:30 UTC on the release date it is already the next day in Berlin."""
    s = site(issue(1, fix_version_ids=(50,)), versions=[version(release_date=day("2026-03-10"))])
    late_evening = "2026-03-10T23:30"
    assert run_check("version_overdue", s, late_evening) == []
    berlin = WorkingCalendar(timezone="Europe/Berlin")
    [hit] = run_check("version_overdue", s, late_evening, calendar=berlin)
    assert hit.evidence["today"] == "2026-03-11"


def test_due_date_overdue_flags_unresolved_issues_and_epics():
    """Unresolved issues and epics past their due date are flagged; resolved ones never."""
    s = site(
        issue(1, due_date=day("2026-04-10")),
        issue(2, due_date=day("2026-04-10"), is_epic=True),
        done(3, due_date=day("2026-04-01")),
        issue(4, due_date=day("2026-04-20")),
        issue(5, due_date=day("2026-04-13"), status_category=CATEGORY_DONE),
    )
    hits = run_check("due_date_overdue", s, "2026-04-13T09:00")
    assert [(h.subject_type, h.subject_name, h.issue_ids) for h in hits] == [
        ("issue", "ABC-1", (1,)), ("epic", "ABC-2", (2,)),
    ]
    assert hits[0].evidence["working_days_late"] == 1  # Friday -> Monday


def test_due_date_respects_exempt_issue_types():
    """An exempt issue type is never flagged."""
    s = site(issue(1, due_date=day("2026-04-10"), issue_type="Incident"),
             issue(2, due_date=day("2026-04-10")))
    hits = run_check("due_date_overdue", s, "2026-04-20",
                     eligible=lambda i: i.issue_type != "Incident")
    assert [h.subject_name for h in hits] == ["ABC-2"]


def resolved_on(issue_id, when, project="ABC"):
    return issue(issue_id, project=project, status="Done", status_category=CATEGORY_DONE,
                 resolution="Done", resolved_at=at(when))


def test_version_at_risk_when_the_85th_percentile_lands_after_the_release():
    """Constant throughput forecasts one date: flagged when it falls after the release date."""
    # One issue resolved on each of the 30 working days to Monday 2026-06-01.
    days = [d for d in (date(2026, 4, 1) + timedelta(n) for n in range(62))
            if d.weekday() < 5 and d <= date(2026, 6, 1)][-30:]
    resolved = [resolved_on(100 + n, f"{d}T12:00") for n, d in enumerate(days)]
    open_issues = [issue(n, fix_version_ids=(50,)) for n in range(1, 11)]
    v = version(release_date=day("2026-06-12"))  # 9 working days after Monday 06-01
    s = site(*resolved, *open_issues, issue(200, project="OPS"), versions=[v])
    [hit] = run_check("version_at_risk", s, "2026-06-01T18:00")
    assert hit.evidence["window_working_days"] == 30
    assert hit.evidence["throughput_per_working_day"] == 1.0
    assert hit.evidence["forecast"] == {"50": "2026-06-15", "85": "2026-06-15",
                                        "95": "2026-06-15"}
    assert hit.evidence["forecast_finish"] == "2026-06-15"
    assert hit.issue_ids == tuple(range(1, 11))
    assert "1 working day late" in hit.message and "10 open issues" in hit.message
    later = version(release_date=day("2026-06-15"))
    assert run_check("version_at_risk", site(*resolved, *open_issues, versions=[later]),
                     "2026-06-01T18:00") == []


def test_version_at_risk_percentile_is_a_parameter():
    """An uneven pace: the 50th percentile may make the date while the 85th does not."""
    # Alternating 0 and 2 issues a day over 30 working days; 2 issues left: done in one
    # working day half the time, in three 87.5% of the time (worked in test_forecast).
    days = [d for d in (date(2026, 4, 1) + timedelta(n) for n in range(62))
            if d.weekday() < 5 and d <= date(2026, 6, 1)][-30:]
    resolved = [resolved_on(100 + 2 * n + k, f"{d}T12:00")
                for n, d in enumerate(days) if n % 2 for k in range(2)]
    open_issues = [issue(n, fix_version_ids=(50,)) for n in range(1, 3)]
    s = site(*resolved, *open_issues, versions=[version(release_date=day("2026-06-03"))])
    assert run_check("version_at_risk", s, "2026-06-01T18:00", {"percentile": 50}) == []
    [hit] = run_check("version_at_risk", s, "2026-06-01T18:00")
    assert hit.evidence["forecast"]["50"] == "2026-06-02"
    assert hit.evidence["forecast_finish"] == "2026-06-04"


def test_at_risk_window_counts_working_days_so_holidays_stretch_it():
    """The throughput window is N working days: with holidays in it, it reaches further back."""
    # 50 open issues due tomorrow: flagged whatever the pace, so the evidence shows the
    # window. Five working days back from Monday 2026-06-01 is Monday 05-25 (the window
    # opens at its end); with Tue 05-26 and Wed 05-27 off it opens at the end of Thu 05-21.
    resolved = [resolved_on(101, "2026-05-22T12:00"), resolved_on(102, "2026-05-28T12:00")]
    open_issues = [issue(n, fix_version_ids=(50,)) for n in range(1, 51)]
    s = site(*resolved, *open_issues, versions=[version(release_date=day("2026-06-02"))])

    def in_window(calendar=None):
        [hit] = run_check("version_at_risk", s, "2026-06-01T12:00", {"window_days": 5},
                          calendar=calendar)
        return hit.evidence["resolved_in_window"], hit.evidence["window_working_days"]

    assert in_window() == (1, 5)
    holidays = WorkingCalendar(holidays=frozenset({date(2026, 5, 26), date(2026, 5, 27)}))
    assert in_window(holidays) == (2, 5)


def test_version_at_risk_when_nothing_was_resolved():
    """No throughput at all with work remaining is at risk, with no forecast date."""
    s = site(issue(1, fix_version_ids=(50,)), versions=[version(release_date=day("2026-09-01"))])
    [hit] = run_check("version_at_risk", s, "2026-06-01")
    assert hit.evidence["forecast_finish"] is None
    assert "nothing was resolved" in hit.message


def test_version_already_late_is_left_to_overdue():
    """A version past its release date is overdue, not at risk."""
    s = site(issue(1, fix_version_ids=(50,)), versions=[version(release_date=day("2026-05-01"))])
    assert run_check("version_at_risk", s, "2026-06-01") == []
