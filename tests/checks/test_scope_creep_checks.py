"""Scope creep (SC001-SC003): hand-built scenarios in, exact findings out."""

from __future__ import annotations

from datetime import timedelta

from jira_pm.calendar import WorkingCalendar
from jira_pm.checks.testing import at, change, day, issue, run_check, site
from jira_pm.config import Settings
from jira_pm.model import CATEGORY_DONE, CATEGORY_IN_PROGRESS, Person, Sprint, Version

START = "2026-03-02T09:00"
SPRINT = Sprint(id=7, name="Team A 42", state="active", start=at(START), end=at("2026-03-13"))
NOW = "2026-03-06T12:00"


def sprint_issue(issue_id, points=None, **kw):
    """A story created before the sprint, in sprint 7 now."""
    kw.setdefault("sprint_ids", (7,))
    return issue(issue_id, story_points=points, created="2026-02-20", **kw)


def joined(issue_id, when, author="ana", before="", after="7"):
    return change(issue_id, when, "Sprint", before, after, author=author,
                  field_id="customfield_10020")


def test_issue_added_the_day_before_the_start_is_baseline_and_one_after_is_added():
    """An issue added before T0 (even the day before) is baseline; one added after it is added."""
    s = site(
        sprint_issue(1, 5, changes=[joined(1, "2026-03-01T20:00")]),
        sprint_issue(2, 5),
        sprint_issue(3, 3, changes=[joined(3, "2026-03-02T09:01", author="ben")]),
        sprints=[SPRINT],
    )
    [hit] = run_check("scope_creep_sprint", s, NOW)
    assert hit.subject_type == "sprint" and hit.subject_id == "7"
    assert hit.issue_ids == (3,)
    assert hit.evidence["baseline_issues"] == 2
    assert hit.evidence["baseline_amount"] == 10
    assert hit.evidence["growth"] == 0.3
    assert hit.evidence["added"] == [
        {"key": "ABC-3", "added_at": "2026-03-02T09:01:00+00:00", "added_by": "Ben",
         "added_how": "added", "estimate": 3.0}
    ]


def test_addition_one_minute_before_the_start_is_not_scope_creep():
    """The same addition one minute before the sprint start leaves growth at zero."""
    s = site(
        sprint_issue(1, 5),
        sprint_issue(3, 3, changes=[joined(3, "2026-03-02T08:59")]),
        sprints=[SPRINT],
    )
    assert run_check("scope_creep_sprint", s, NOW) == []


def test_addition_at_exactly_the_start_is_baseline():
    """An issue that joins at the very instant of T0 is in the sprint at its start: baseline."""
    s = site(
        sprint_issue(1, 5),
        sprint_issue(3, 3, changes=[joined(3, START)]),
        sprints=[SPRINT],
    )
    assert run_check("scope_creep_sprint", s, NOW) == []


def test_issue_created_into_the_sprint_at_exactly_the_start_is_baseline():
    """An issue created with the sprint set at the instant of T0 is baseline, not added."""
    s = site(
        sprint_issue(1, 5),
        issue(6, story_points=2, sprint_ids=(7,), created=START),
        sprints=[SPRINT],
    )
    assert run_check("scope_creep_sprint", s, NOW) == []


def test_added_then_removed_is_neither_added_nor_removed():
    """An issue that entered after T0 and left again is not scope creep."""
    s = site(
        sprint_issue(1, 5),
        sprint_issue(4, 8, sprint_ids=(), changes=[
            joined(4, "2026-03-03T10:00"),
            joined(4, "2026-03-04T10:00", before="7", after=""),
        ]),
        sprints=[SPRINT],
    )
    assert run_check("scope_creep_sprint", s, NOW) == []


def test_removed_baseline_issues_are_reported_not_netted():
    """A removed baseline issue is listed as removed and does not offset an addition."""
    s = site(
        sprint_issue(1, 5),
        sprint_issue(2, 5, sprint_ids=(), changes=[joined(2, "2026-03-03", before="7", after="")]),
        sprint_issue(3, 2, changes=[joined(3, "2026-03-03")]),
        sprints=[SPRINT],
    )
    [hit] = run_check("scope_creep_sprint", s, NOW)
    assert hit.evidence["growth"] == 0.2  # 2 / (5 + 5): removal not netted
    assert [r["key"] for r in hit.evidence["removed"]] == ["ABC-2"]
    assert hit.evidence["removed"][0]["removed_by"] == "Ana"
    assert hit.issue_ids == (3,)


def test_re_estimated_up_counts_and_down_is_reported_only():
    """Growth counts estimate increases after T0; decreases are reported but not netted."""
    s = site(
        sprint_issue(1, 8, changes=[change(1, "2026-03-03", "Story Points", None, None,
                                           from_string="5", to_string="8")]),
        sprint_issue(2, 3, changes=[change(2, "2026-03-03", "Story Points", None, None,
                                           from_string="5", to_string="3")]),
        sprints=[SPRINT],
    )
    [hit] = run_check("scope_creep_sprint", s, NOW)
    assert hit.evidence["growth"] == 0.3  # +3 of a 10-point baseline
    assert hit.evidence["re_estimated"] == [{"key": "ABC-1", "from": 5.0, "to": 8.0,
                                             "increase": 3.0,
                                             "changed_at": "2026-03-03T00:00:00+00:00",
                                             "changed_by": "Ana"}]
    assert hit.evidence["shrunk"] == [{"key": "ABC-2", "from": 5.0, "to": 3.0, "decrease": 2.0}]
    assert hit.issue_ids == (1,)


def test_estimate_raised_before_the_start_is_baseline():
    """An estimate changed before T0 is the baseline estimate, not growth."""
    s = site(
        sprint_issue(1, 8, changes=[change(1, "2026-03-01", "Story Points", "5", "8")]),
        sprints=[SPRINT],
    )
    assert run_check("scope_creep_sprint", s, NOW) == []


def test_unestimated_addition_adds_no_points_but_counts_as_an_issue():
    """An unestimated addition adds nothing in points, and one issue in the issues measure."""
    s = site(
        sprint_issue(1, 5),
        sprint_issue(2, 5),
        sprint_issue(3, None, changes=[joined(3, "2026-03-03")]),
        sprints=[SPRINT],
    )
    assert run_check("scope_creep_sprint", s, NOW) == []
    [hit] = run_check("scope_creep_sprint", s, NOW, {"measure": "issues"})
    assert hit.evidence["growth"] == 0.5
    assert hit.issue_ids == (3,)


def test_baseline_without_estimates_falls_back_to_issue_count():
    """With no estimates in the baseline, growth is counted in issues."""
    s = site(
        sprint_issue(1), sprint_issue(2), sprint_issue(3), sprint_issue(4),
        sprint_issue(5, 8, changes=[joined(5, "2026-03-03")]),
        sprints=[SPRINT],
    )
    [hit] = run_check("scope_creep_sprint", s, NOW)
    assert hit.evidence["measure"] == "issues"
    assert hit.evidence["measure_configured"] == "points"
    assert hit.evidence["growth"] == 0.25


def test_sub_tasks_carry_no_points():
    """A sub-task with points added to the sprint after the start is not scope creep."""
    s = site(
        sprint_issue(1, 5),
        sprint_issue(9, 13, is_subtask=True, parent_id=1, changes=[joined(9, "2026-03-03")]),
        sprints=[SPRINT],
    )
    assert run_check("scope_creep_sprint", s, NOW) == []


def test_issue_created_straight_into_the_sprint_after_start_is_added_by_its_creator():
    """An issue created after T0 with the sprint set (no changelog item) is added by its creator."""
    s = site(
        sprint_issue(1, 5),
        issue(6, story_points=2, sprint_ids=(7,), created="2026-03-04T08:00",
              creator=Person("acc-cleo", "Cleo")),
        sprints=[SPRINT],
    )
    [hit] = run_check("scope_creep_sprint", s, NOW)
    assert hit.evidence["added"] == [
        {"key": "ABC-6", "added_at": "2026-03-04T08:00:00+00:00", "added_by": "Cleo",
         "added_how": "created in it", "estimate": 2.0}
    ]


def test_issue_created_into_the_sprint_with_no_known_creator_is_added_by_nobody_named():
    """With no creator or reporter stored, the issue created into the sprint has no added_by."""
    s = site(
        sprint_issue(1, 5),
        issue(6, story_points=2, sprint_ids=(7,), created="2026-03-04T08:00"),
        sprints=[SPRINT],
    )
    [hit] = run_check("scope_creep_sprint", s, NOW)
    [added] = hit.evidence["added"]
    assert (added["added_by"], added["added_how"]) == (None, "created in it")


def test_a_changelog_addition_names_its_author_not_the_issues_creator():
    """An issue created outside the sprint and moved in later is added by whoever moved it."""
    s = site(
        sprint_issue(1, 5),
        issue(6, story_points=2, created="2026-03-03T08:00", creator=Person("acc-cleo", "Cleo"),
              sprint_ids=(7,), changes=[joined(6, "2026-03-04T08:00", author="ben")]),
        sprints=[SPRINT],
    )
    [hit] = run_check("scope_creep_sprint", s, NOW)
    [added] = hit.evidence["added"]
    assert (added["added_by"], added["added_how"]) == ("Ben", "added")


def test_growth_equal_to_threshold_is_not_flagged():
    """Growth must exceed the threshold: exactly 10% is fine."""
    s = site(
        sprint_issue(1, 10),
        sprint_issue(2, 1, changes=[joined(2, "2026-03-03")]),
        sprints=[SPRINT],
    )
    assert run_check("scope_creep_sprint", s, NOW) == []
    assert len(run_check("scope_creep_sprint", s, NOW, {"threshold": 0.05})) == 1


def test_closed_and_future_sprints_are_not_checked():
    """Only active sprints are containers for SC001."""
    closed = Sprint(id=7, name="old", state="closed", start=at(START), end=at("2026-03-13"))
    s = site(
        sprint_issue(1, 1),
        sprint_issue(2, 5, changes=[joined(2, "2026-03-03")]),
        sprints=[closed],
    )
    assert run_check("scope_creep_sprint", s, NOW) == []


def test_data_center_sprint_items_with_several_ids_and_names_only():
    """DC-style Sprint items ("7, 8" ids, or names without ids) rebuild membership correctly."""
    s = site(
        # Carried over from sprint 6 into 7 before the start: "6" -> "6, 7".
        sprint_issue(1, 5, sprint_ids=(6, 7), changes=[
            change(1, "2026-02-27", "Sprint", "6", "6, 7", from_string="Team A 41",
                   to_string="Team A 41, Team A 42")]),
        # Added after the start; the item has names only (no ids).
        sprint_issue(2, 3, changes=[
            change(2, "2026-03-03", "Sprint", None, None, from_string=None,
                   to_string="Team A 42")]),
        # Legacy greenhopper string in the value.
        sprint_issue(3, 2, changes=[
            change(3, "2026-03-04", "Sprint", "",
                   "com.atlassian.greenhopper.service.sprint.Sprint@1a2b[id=7,rapidViewId=1,"
                   "state=ACTIVE,name=Team A 42]")]),
        sprints=[SPRINT, Sprint(id=6, name="Team A 41", state="closed", start=None, end=None)],
    )
    [hit] = run_check("scope_creep_sprint", s, NOW)
    assert [a["key"] for a in hit.evidence["added"]] == ["ABC-2", "ABC-3"]
    assert hit.evidence["baseline_issues"] == 1
    assert hit.evidence["growth"] == 1.0


def test_changelog_longer_than_forty_histories():
    """Membership is rebuilt correctly through a changelog of more than 40 histories."""
    changes = []
    t = at("2026-02-21T00:00")
    for n in range(30):  # 60 status flips before the sprint, then a late addition
        changes.append(change(1, (t + timedelta(hours=n)).isoformat(), "status", "1", "3"))
        changes.append(change(1, (t + timedelta(hours=n, minutes=30)).isoformat(), "status",
                              "3", "1"))
    changes.append(joined(1, "2026-03-02T09:00:01"))
    changes.append(change(1, "2026-03-05", "status", "1", "3"))
    s = site(sprint_issue(2, 5), sprint_issue(1, 5, changes=changes), sprints=[SPRINT])
    [hit] = run_check("scope_creep_sprint", s, NOW)
    assert len(changes) > 40
    assert hit.issue_ids == (1,)
    assert hit.evidence["added"][0]["added_at"] == "2026-03-02T09:00:01+00:00"


def test_exempt_or_out_of_scope_issues_are_ignored():
    """Issues the rule may not touch neither count nor get labels."""
    s = site(
        sprint_issue(1, 5),
        sprint_issue(2, 5, issue_type="Bug", changes=[joined(2, "2026-03-03")]),
        sprints=[SPRINT],
    )
    assert run_check("scope_creep_sprint", s, NOW, eligible=lambda i: i.issue_type != "Bug") == []


def version(**kw):
    defaults = dict(id=50, project_key="ABC", name="1.4", start_date=None, release_date=None,
                    released=False, archived=False, first_seen=None)
    defaults.update(kw)
    return Version(**defaults)


def in_version(issue_id, when, author="ana"):
    return change(issue_id, when, "Fix Version", None, "50", to_string="1.4", author=author,
                  field_id="fixVersions")


def test_version_without_start_date_uses_first_seen():
    """A version with no start date has its baseline when jira-pm first saw it."""
    v = version(first_seen=at("2026-03-10T12:00"))
    s = site(
        issue(1, story_points=5, fix_version_ids=(50,), changes=[in_version(1, "2026-03-09")]),
        issue(2, story_points=5, fix_version_ids=(50,), changes=[in_version(2, "2026-03-11")]),
        versions=[v],
    )
    [hit] = run_check("scope_creep_version", s, "2026-03-12")
    assert hit.subject_type == "version" and hit.subject_name == "1.4"
    assert hit.issue_ids == (2,)
    assert hit.evidence["baseline_at"] == "2026-03-10T12:00:00+00:00"


def test_version_start_date_is_midnight_in_the_configured_zone():
    """An addition at 23:30 UTC before the start date is after midnight in Berlin."""
    v = version(start_date=day("2026-03-02"))
    s = site(
        issue(1, story_points=5, fix_version_ids=(50,), changes=[in_version(1, "2026-02-20")]),
        issue(2, story_points=5, fix_version_ids=(50,),
              changes=[in_version(2, "2026-03-01T23:30")]),
        versions=[v],
    )
    berlin = WorkingCalendar(timezone="Europe/Berlin")
    [hit] = run_check("scope_creep_version", s, "2026-03-05", calendar=berlin)
    assert hit.issue_ids == (2,)
    assert hit.evidence["baseline_at"] == "2026-03-01T23:00:00+00:00"
    assert run_check("scope_creep_version", s, "2026-03-05") == []  # UTC: before the start


def test_fix_version_items_add_and_remove_one_version_each():
    """Fix Version items replayed one id at a time find the version's baseline."""
    v = version(start_date=day("2026-03-02"))
    s = site(
        issue(1, story_points=5, fix_version_ids=(50, 51), changes=[
            change(1, "2026-02-10", "Fix Version", None, "51"),
            change(1, "2026-02-11", "Fix Version", None, "50"),
        ]),
        issue(2, story_points=5, fix_version_ids=(51,), changes=[
            change(2, "2026-02-10", "Fix Version", None, "50"),
            change(2, "2026-03-03", "Fix Version", "50", None),
            change(2, "2026-03-03", "Fix Version", None, "51"),
        ]),
        issue(3, story_points=2, fix_version_ids=(50,), changes=[in_version(3, "2026-03-04")]),
        versions=[v],
    )
    [hit] = run_check("scope_creep_version", s, "2026-03-05")
    assert hit.evidence["baseline_issues"] == 2
    assert [r["key"] for r in hit.evidence["removed"]] == ["ABC-2"]
    assert hit.issue_ids == (3,)


def test_released_versions_are_not_checked_for_scope_creep():
    """A released version has no scope creep to report."""
    v = version(start_date=day("2026-03-02"), released=True)
    s = site(
        issue(1, story_points=1, fix_version_ids=(50,), changes=[in_version(1, "2026-02-20")]),
        issue(2, story_points=5, fix_version_ids=(50,), changes=[in_version(2, "2026-03-03")]),
        versions=[v],
    )
    assert run_check("scope_creep_version", s, "2026-03-05") == []


def epic_with_start(status_change):
    return issue(100, "ABC-100", is_epic=True, status="In Progress",
                 status_category=CATEGORY_IN_PROGRESS, created="2026-01-10",
                 changes=[status_change])


def test_epic_baseline_is_its_first_move_into_in_progress_by_status_id():
    """The epic's T0 is its first status item into an In Progress category status."""
    epic = epic_with_start(change(100, "2026-02-01", "status", "1", "3", to_string="Doing"))
    s = site(
        epic,
        issue(1, story_points=5, parent_id=100),  # child since creation (Cloud parent)
        issue(2, story_points=2, parent_id=100, changes=[
            change(2, "2026-02-05", "IssueParentAssociation", None, "100", to_string="ABC-100")]),
        status_categories={"1": "new", "3": CATEGORY_IN_PROGRESS},
    )
    [hit] = run_check("scope_creep_epic", s, "2026-02-10")
    assert hit.subject_type == "epic" and hit.subject_name == "ABC-100"
    assert hit.evidence["baseline_at"] == "2026-02-01T00:00:00+00:00"
    assert hit.issue_ids == (2,)


def test_epic_status_by_name_when_ids_are_missing_and_dc_epic_link_by_key():
    """Status names stand in for missing ids; DC Epic Link keys resolve to the epic."""
    epic = epic_with_start(change(100, "2026-02-01", "status", None, None, to_string="In Progress"))
    s = site(
        epic,
        issue(1, story_points=5, epic_key="ABC-100", created="2026-01-20"),
        issue(2, story_points=3, epic_key="ABC-100", changes=[
            change(2, "2026-02-03", "Epic Link", None, None, to_string="ABC-100")]),
        issue(3, story_points=3, status="Done", status_category=CATEGORY_DONE,
              resolution="Done", epic_key="ABC-100",
              changes=[change(3, "2026-01-30", "Epic Link", None, "100", to_string="ABC-100")]),
    )
    [hit] = run_check("scope_creep_epic", s, "2026-02-10")
    assert hit.evidence["baseline_amount"] == 8
    assert hit.issue_ids == (2,)


def test_epic_not_in_progress_is_not_checked():
    """An epic still to do (or done) is not a scope-creep container."""
    epic = issue(100, is_epic=True, created="2026-01-10")
    s = site(epic, issue(1, story_points=5, parent_id=100),
             issue(2, story_points=5, parent_id=100, created="2026-02-02"))
    assert run_check("scope_creep_epic", s, "2026-02-10") == []


def test_hours_measure_reads_original_estimate_items():
    """measure = hours uses timeoriginalestimate items (seconds) for baseline and growth."""
    s = site(
        sprint_issue(1, original_estimate_seconds=36000, changes=[
            change(1, "2026-03-03", "timeoriginalestimate", "18000", "36000",
                   field_id="timeoriginalestimate")]),
        sprint_issue(2, original_estimate_seconds=7200, changes=[joined(2, "2026-03-04")]),
        sprints=[SPRINT],
    )
    [hit] = run_check("scope_creep_sprint", s, NOW, {"measure": "hours"})
    assert hit.evidence["baseline_amount"] == 5.0
    assert hit.evidence["growth_amount"] == 7.0  # +5 h re-estimate, +2 h added
    assert hit.issue_ids == (1, 2)


def test_message_dates_the_baseline_in_the_configured_zone():
    """The message names the baseline day as the configured zone sees it."""
    v = version(start_date=day("2026-03-02"))
    s = site(
        issue(1, story_points=5, fix_version_ids=(50,), changes=[in_version(1, "2026-02-20")]),
        issue(2, story_points=5, fix_version_ids=(50,), changes=[in_version(2, "2026-03-03")]),
        versions=[v],
    )
    [hit] = run_check("scope_creep_version", s, "2026-03-05",
                      calendar=WorkingCalendar(timezone="Europe/Berlin"))
    assert hit.message == (
        "Version ABC '1.4' grew 100% since 2026-03-02 (threshold 10%): 1 added; "
        "+5 on a baseline of 5 points"
    )


def test_configured_story_point_field_by_id_or_name():
    """A site's own story point field is read when [fields] names it by id or by name."""
    def grown_site():
        return site(
            sprint_issue(1, 8, changes=[change(1, "2026-03-03", "Effort", "2", "8",
                                               field_id="customfield_10099")]),
            sprint_issue(2, 2),
            sprints=[SPRINT],
        )

    assert run_check("scope_creep_sprint", grown_site(), NOW) == []  # unknown field: ignored
    for setting in ("customfield_10099", "Effort"):
        cfg = Settings.for_tests(fields={"story_points": setting})
        [hit] = run_check("scope_creep_sprint", grown_site(), NOW, settings=cfg)
        assert hit.evidence["re_estimated"][0]["increase"] == 6.0
