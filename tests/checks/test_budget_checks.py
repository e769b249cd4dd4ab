"""Budget breaches (BU001-BU004): hand-built scenarios in, exact findings out."""

from __future__ import annotations

from jira_pm.checks.budget import budget_problems
from jira_pm.checks.testing import at, issue, run_check, site, worklog
from jira_pm.config import Settings
from jira_pm.model import CATEGORY_DONE, Person, Version

NOW = "2026-03-01"


def epic_site(*children_worklogs, epic_budget=None, **epic_kw):
    """Epic 100 with Cloud child 1 (sub-task 11) and DC Epic Link child 2."""
    hours1, hours11, hours2 = children_worklogs
    return site(
        issue(100, "ABC-100", is_epic=True, budget=epic_budget, **epic_kw),
        issue(1, parent_id=100, worklogs=[worklog(1, h, "ana") for h in hours1]),
        issue(11, is_subtask=True, parent_id=1, worklogs=[worklog(11, h, "ben") for h in hours11]),
        issue(2, epic_key="ABC-100", worklogs=[worklog(2, h, "cy") for h in hours2]),
        issue(3, worklogs=[worklog(3, 500, "ana")]),  # not in the epic
    )


def settings(**sections):
    return Settings.for_tests(projects=["ABC"], **sections)


def test_worklogs_on_sub_tasks_and_dc_children_roll_up_to_the_epic():
    """Actuals are the worklogs of the epic's children and their sub-tasks; 100% is a breach."""
    cfg = settings(budget=[{"epic": "ABC-100", "hours": 100}])
    s = epic_site([10, 20], [30], [25])
    [warn] = run_check("budget_warning", s, NOW, settings=cfg)
    assert warn.evidence["actual"] == 85.0
    assert run_check("budget_breach", s, NOW, settings=cfg) == []
    s = epic_site([10, 20], [30], [25, 15])
    [breach] = run_check("budget_breach", s, NOW, settings=cfg)
    assert breach.subject_type == "epic" and breach.subject_name == "ABC-100"
    assert breach.evidence["actual"] == 100.0
    assert breach.evidence["issues_counted"] == 4
    assert breach.issue_ids == (100,)


def test_warning_between_warn_at_and_the_budget():
    """85% spent is a warning (the epic is labelled), not a breach."""
    s = epic_site([40], [20], [25])
    cfg = settings(budget=[{"epic": "ABC-100", "hours": 100}])
    [warn] = run_check("budget_warning", s, NOW, settings=cfg)
    assert warn.evidence["spent_fraction"] == 0.85
    assert warn.issue_ids == (100,)
    assert run_check("budget_breach", s, NOW, settings=cfg) == []
    strict = settings(budget=[{"epic": "ABC-100", "hours": 100, "warn_at": 0.9}])
    assert run_check("budget_warning", s, NOW, settings=strict) == []


def test_several_rates_price_each_author():
    """Money is each worklog's hours times its author's rate, else the default rate."""
    s = epic_site([50], [45], [])
    cfg = settings(budget=[{"epic": "ABC-100", "amount": 10000}],
                   rates={"default": 95.0, "people": {"ana": 120.0}})
    [hit] = run_check("budget_breach", s, NOW, settings=cfg)
    assert hit.evidence["actual"] == 50 * 120 + 45 * 95  # 10275
    assert hit.evidence["by_person"] == {"ana": 6000.0, "ben": 4275.0}
    assert hit.evidence["unit"] == "money" and hit.evidence["currency"] == "EUR"


def test_hours_without_any_rate_are_reported_unpriced():
    """With no rate for an author and no default, their hours are left out and reported."""
    s = epic_site([50], [45], [])
    cfg = settings(budget=[{"epic": "ABC-100", "amount": 5000}], rates={"people": {"ana": 120.0}})
    [hit] = run_check("budget_breach", s, NOW, settings=cfg)
    assert hit.evidence["actual"] == 6000.0
    assert hit.evidence["unpriced_hours"] == 45.0


def test_budget_from_the_custom_field_and_config_wins():
    """The epic's budget field is used unless jira-pm.toml sets a budget for the same epic."""
    s = epic_site([40], [0], [20], epic_budget=50)
    [hit] = run_check("budget_breach", s, NOW, settings=settings())
    assert hit.evidence["source"] == "field" and hit.evidence["budget"] == 50
    cfg = settings(budget=[{"epic": "ABC-100", "hours": 200}])
    assert run_check("budget_breach", s, NOW, settings=cfg) == []
    money = run_check("budget_breach", s, NOW, {"field_unit": "money"},
                      settings=settings(rates={"default": 100.0}))
    assert money[0].evidence["actual"] == 6000.0 and money[0].evidence["unit"] == "money"


def test_forecast_uses_remaining_estimates_of_unresolved_work():
    """Actual plus the remaining estimate of unresolved issues over budget is a risk."""
    s = site(
        issue(100, "ABC-100", is_epic=True),
        issue(1, parent_id=100, worklogs=[worklog(1, 60)], remaining_estimate_seconds=30 * 3600),
        issue(2, parent_id=100, original_estimate_seconds=20 * 3600,
              worklogs=[worklog(2, 5)]),  # no remaining estimate: 20 - 5 = 15 h left
        issue(3, parent_id=100, status="Done", status_category=CATEGORY_DONE, resolution="Done",
              remaining_estimate_seconds=99 * 3600),  # resolved: nothing remains
    )
    cfg = settings(budget=[{"epic": "ABC-100", "hours": 100}])
    [risk] = run_check("budget_risk", s, NOW, settings=cfg)
    assert risk.evidence["remaining_estimate"] == 45.0
    assert risk.evidence["forecast"] == 110.0
    assert risk.issue_ids == (100,)
    roomy = settings(budget=[{"epic": "ABC-100", "hours": 120}])
    assert run_check("budget_risk", s, NOW, settings=roomy) == []


def test_version_and_project_budgets_are_reported_but_label_nothing():
    """Version and project budgets report without labels unless configured to label."""
    s = site(
        issue(1, fix_version_ids=(50,), worklogs=[worklog(1, 30)]),
        issue(11, is_subtask=True, parent_id=1, worklogs=[worklog(11, 30)]),
        issue(2, project="OPS", worklogs=[worklog(2, 100)]),
        versions=[Version(50, "ABC", "1.4", None, None, False, False)],
    )
    cfg = settings(budget=[{"version": "1.4", "project": "ABC", "hours": 50},
                           {"project": "OPS", "hours": 90}])
    hits = run_check("budget_breach", s, NOW, settings=cfg)
    assert [(h.subject_type, h.subject_name, h.evidence["actual"], h.issue_ids) for h in hits] == [
        ("version", "1.4", 60.0, ()), ("project", "OPS", 100.0, ()),
    ]
    labelled = run_check("budget_breach", s, NOW, {"label_container_issues": True}, settings=cfg)
    assert [h.issue_ids for h in labelled] == [(1, 11), (2,)]


def test_over_estimate_beyond_tolerance_only():
    """Time spent above estimate x 1.2 is flagged; within tolerance or unestimated is not."""
    s = site(
        issue(1, original_estimate_seconds=36000, worklogs=[worklog(1, 12.5)]),
        issue(2, original_estimate_seconds=36000, worklogs=[worklog(2, 11.5)]),
        issue(3, worklogs=[worklog(3, 100)]),
        issue(4, original_estimate_seconds=0, time_spent_seconds=3600),
        issue(5, is_subtask=True, parent_id=1, original_estimate_seconds=3600,
              time_spent_seconds=3 * 3600),
    )
    hits = run_check("over_estimate", s, NOW)
    assert [(h.subject_name, h.evidence["over_fraction"]) for h in hits] == [
        ("ABC-1", 0.25), ("ABC-5", 2.0),
    ]
    assert run_check("over_estimate", s, NOW, {"tolerance": 0.3})[0].subject_name == "ABC-5"


def test_exempt_epic_gets_no_budget_label():
    """A budget on an exempt epic produces no finding."""
    s = epic_site([200], [], [], labels=("pm-ignore",))
    cfg = settings(budget=[{"epic": "ABC-100", "hours": 100}])
    hits = run_check("budget_breach", s, NOW, settings=cfg,
                     exempt=lambda i: "pm-ignore" in i.labels)
    assert hits == []


def test_worklog_author_missing_uses_default_rate():
    """A worklog without an author is priced at the default rate."""
    s = site(issue(100, "ABC-100", is_epic=True, budget=100.0,
                   worklogs=[worklog(100, 1, author=None)],
                   assignee=Person("ana")))
    [hit] = run_check("budget_breach", s, NOW, {"field_unit": "money"},
                      settings=settings(rates={"default": 150.0}))
    assert hit.evidence["actual"] == 150.0


def test_budget_for_an_unknown_epic_is_skipped_and_reported_once_as_a_problem(caplog):
    """A [[budget]] naming an issue the store lacks yields no finding, no log line, one problem."""
    s = epic_site([200], [], [])
    cfg = settings(budget=[{"epic": "ABC-999", "hours": 10}])
    for check in ("budget_warning", "budget_breach", "budget_risk"):
        assert run_check(check, s, NOW, settings=cfg) == []
    assert caplog.records == []
    [problem] = budget_problems(s, cfg)
    assert problem.startswith("[[budget]] #1 in the configuration: epic = 'ABC-999' is not in "
                              "the store")


def test_budget_on_a_story_is_named_after_its_type_and_reported_as_a_problem():
    """A budget on a story is reported as "Story ABC-1" (subject type issue), never as an epic."""
    s = epic_site([200], [], [])
    cfg = settings(budget=[{"epic": "ABC-1", "hours": 100}])
    [hit] = run_check("budget_breach", s, NOW, settings=cfg)
    assert hit.message.startswith("Story ABC-1 is over budget")
    assert "Epic" not in hit.message and "epic" not in hit.message
    assert (hit.subject_type, hit.subject_name, hit.issue_ids) == ("issue", "ABC-1", (1,))
    [problem] = budget_problems(s, cfg)
    assert "epic = 'ABC-1' is a Story, not an epic" in problem


def test_budget_naming_an_unknown_version_is_a_problem():
    """A version budget whose version the store lacks is reported as a config problem."""
    s = site(issue(1), versions=[Version(50, "ABC", "1.4", None, None, False, False)])
    cfg = settings(budget=[{"version": "1.4", "project": "ABC", "hours": 5},
                           {"version": "9.9", "project": "ABC", "hours": 5}])
    assert [p.split(":")[0] for p in budget_problems(s, cfg)] == [
        "[[budget]] #2 in the configuration"]


BUDGET_RULES = """
[[rule]]
id = "BX001"
check = "budget_breach"
severity = "high"
projects = ["XYZ"]

[[rule]]
id = "BX002"
check = "budget_warning"
severity = "low"
[rule.params]
warn_at = 0.5

[[rule]]
id = "BX003"
check = "budget_breach"
severity = "high"
issue_types = ["Bug"]
[rule.params]
label_container_issues = true
"""


def test_budget_rules_evaluated_together_find_what_each_finds_alone(tmp_path):
    """Budget rules share one site's statuses only where scope and parameters agree."""
    from dataclasses import replace

    from jira_pm.engine import evaluate
    from jira_pm.rulepack import load_pack

    (tmp_path / "budget.toml").write_text(BUDGET_RULES)
    s = site(
        issue(100, "ABC-100", is_epic=True, budget=10, worklogs=[worklog(100, 6)]),
        issue(1, parent_id=100, worklogs=[worklog(1, 6)]),
        issue(200, "XYZ-200", project="XYZ", is_epic=True, budget=10,
              worklogs=[worklog(200, 11)]),
        issue(300, "ABC-300", is_epic=True, budget=10, worklogs=[worklog(300, 6)]),
        issue(2, "XYZ-2", project="XYZ", issue_type="Bug", parent_id=200),
        issue(3, "XYZ-3", project="XYZ", worklogs=[worklog(3, 700)]),
    )
    cfg = Settings.for_tests(projects=["ABC", "XYZ"], budget=[{"project": "XYZ", "hours": 500}])
    pack = load_pack(cfg, extra_paths=[tmp_path / "budget.toml"])
    together = evaluate(s, pack, cfg, at(NOW))
    alone = [f for rule in pack.enabled()
             for f in evaluate(s, replace(pack, rules=(rule,)), cfg, at(NOW))]
    assert sorted(f.fingerprint for f in together) == sorted(f.fingerprint for f in alone)
    assert {f.fingerprint: f for f in together} == {f.fingerprint: f for f in alone}
    found = {(f.rule_id, f.subject_name, f.issue_ids) for f in together}
    assert ("BX001", "XYZ-200", (200,)) in found and ("BX001", "ABC-100", (100,)) not in found
    assert ("BX003", "XYZ", (2,)) in found and ("BU002", "XYZ", ()) in found
    assert ("BX002", "ABC-300", (300,)) in found and ("BU001", "ABC-300", (300,)) not in found
