"""Which labels write-back owns, end to end against the sandbox in both Jira flavours."""

from __future__ import annotations

import pytest
from test_run_sandbox import FLAVORS, labels, run, scenario, settings_for

from jira_pm.sandbox.server import Sandbox

pytestmark = pytest.mark.integration

LATE_RULE = ('[[rule]]\nid = "XX001"\ncheck = "version_overdue"\nlabel = "pm-late"\n'
             'comment_policy = "never"\n')


def people_labelled() -> dict:
    """The usual site, where people also use prefix labels of their own."""
    data = scenario()
    extra = {"ABC-1": ["pm-custom"], "ABC-4": ["pm-approved"], "ABC-2": ["pm-custom"]}
    for issue in data["issues"]:
        issue["labels"] = issue.get("labels", []) + extra.get(issue["key"], [])
    return data


@pytest.mark.parametrize("flavor", FLAVORS)
def test_a_persons_prefix_labels_survive_a_run(flavor, store_path):
    """pm-custom and pm-approved stay while jira-pm adds and removes its own labels around them."""
    with Sandbox(flavor, scenario=people_labelled()) as app:
        report = run(settings_for(app, store_path))
        assert report.exit_code == 0
        now = labels(app)
        assert now["ABC-1"] == ["backend", "pm-custom", "pm-overdue"]
        assert now["ABC-2"] == ["pm-custom"]
        assert now["ABC-4"] == ["frontend", "pm-approved"]  # pm-at-risk (the pack's) removed


@pytest.mark.parametrize("flavor", FLAVORS)
def test_the_label_of_a_removed_rule_is_cleaned_up(flavor, tmp_path, store_path):
    """A label jira-pm wrote for a rule since removed from the pack is owned and removed."""
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "late.toml").write_text(LATE_RULE, encoding="utf-8")
    store = store_path
    with Sandbox(flavor, scenario=people_labelled()) as app:
        assert run(settings_for(app, store, rules={"paths": [str(rules)]})).exit_code == 0
        assert sorted(labels(app)["ABC-1"]) == ["backend", "pm-custom", "pm-late", "pm-overdue"]
        report = run(settings_for(app, store))  # the rule file is gone from the config
        assert report.exit_code == 0
        assert labels(app)["ABC-1"] == ["backend", "pm-custom", "pm-overdue"]
        assert [line[1] for line in report.writeback.plan.lines()] == ["remove-label pm-late"]
