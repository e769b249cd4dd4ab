"""The scenario format: loading, defaults, and the history consistency check."""

from __future__ import annotations

import json

import pytest
from sandbox_support import shop

from jira_pm.errors import ConfigError
from jira_pm.sandbox import Sandbox
from jira_pm.sandbox.changes import replay_backward
from jira_pm.sandbox.scenario import load_scenario


def test_scenario_values_are_current_values():
    """An issue's scenario fields are what GET /issue shows now."""
    state = load_scenario(shop(), "cloud")
    issue = state.get_issue("SHOP-1")
    assert issue.points == 5.0
    assert [state.sprints[s].name for s in issue.sprints] == ["SHOP Sprint 7"]
    assert issue.original == 16 * 3600 and issue.remaining == 8 * 3600
    assert state.issues[issue.epic_id].key == "SHOP-10"


def test_history_replays_back_to_the_values_before_it():
    """Replaying SHOP-1's changelog backward gives its values at creation."""
    state = load_scenario(shop(), "cloud")
    before = replay_backward(state.get_issue("SHOP-1"))
    assert before["points"] == "3"
    assert before["Sprint"] == frozenset()
    assert before["status"] == "10000"  # To Do


def test_inconsistent_history_is_refused_with_the_issue_named():
    """A history whose 'to' differs from the current value is a one-line ConfigError."""
    data = shop()
    data["issues"][1]["history"][2]["to"] = "8"
    with pytest.raises(ConfigError) as caught:
        load_scenario(data, "cloud")
    assert "SHOP-1" in caught.value.one_line()
    assert "Story Points" in caught.value.one_line() or "points" in caught.value.one_line()


def test_fix_version_history_must_match_membership():
    """Removing a version the issue still has afterwards is refused."""
    data = shop()
    data["issues"][1]["history"].append(
        {"at": "2026-11-14T10:00:00Z", "field": "Fix Version", "from": "1.4", "to": ""})
    with pytest.raises(ConfigError, match="Fix Version"):
        load_scenario(data, "cloud")


def test_unknown_history_field_is_refused():
    """A history field outside the supported list is an error naming it."""
    data = shop()
    data["issues"][1]["history"][0]["field"] = "Flavour"
    with pytest.raises(ConfigError, match="Flavour"):
        load_scenario(data, "cloud")


def test_default_users_exist():
    """Every scenario has the admin bot and the read-only user unless it defines them."""
    state = load_scenario(shop(), "server")
    assert state.users["admin"].admin and not state.users["admin"].readonly
    assert state.users["readonly"].readonly
    assert state.users["alice"].timezone == "Europe/Berlin"


def test_scenario_files_load_as_toml_and_json(tmp_path):
    """The same scenario loads from a .json file and from a .toml file."""
    json_path = tmp_path / "site.json"
    json_path.write_text(json.dumps(shop()), encoding="utf-8")
    toml_path = tmp_path / "site.toml"
    toml_path.write_text(
        'timezone = "UTC"\n[[projects]]\nkey = "ABC"\nname = "Alpha"\n'
        '[[issues]]\nkey = "ABC-1"\ntype = "Task"\nstatus = "Done"\n'
        'created = "2026-11-01T09:00:00Z"\n'
        'history = [{ at = "2026-11-02T09:00:00Z", field = "status", from = "To Do", '
        'to = "Done" }, { at = "2026-11-02T09:00:00Z", field = "resolution", from = "", '
        'to = "Done" }]\n', encoding="utf-8")
    assert load_scenario(json_path).get_issue("SHOP-2").resolution is not None
    state = load_scenario(toml_path, "server")
    assert state.get_issue("ABC-1").status.name == "Done"


def test_a_broken_toml_file_is_a_config_error(tmp_path):
    """Malformed TOML is reported with the file name, not a traceback."""
    path = tmp_path / "bad.toml"
    path.write_text("[[issues]\nkey=", encoding="utf-8")
    with pytest.raises(ConfigError, match="bad.toml"):
        load_scenario(path)


def test_generated_sites_replay_consistently():
    """Every generated issue's changelog replays back from its current values."""
    site = Sandbox(issues=800, seed=7)
    heavy = 0
    for issue in site.state.issues.values():
        replay_backward(issue)
        heavy += len(issue.histories) > 40 and len(issue.worklogs) > 20
    assert heavy >= 2


def test_generation_is_deterministic_per_seed():
    """The same seed gives the same issues; another seed gives others."""
    def fingerprint(seed):
        site = Sandbox(issues=300, seed=seed)
        return [(i.key, i.points, i.updated, len(i.histories), len(i.worklogs))
                for i in site.state.issues.values()]
    assert fingerprint(5) == fingerprint(5)
    assert fingerprint(5) != fingerprint(6)


def test_history_before_creation_is_refused():
    """A history entry dated before its issue was created is an error naming the issue."""
    data = shop()
    data["issues"][1]["history"][0]["at"] = "2026-09-01T10:00:00Z"
    with pytest.raises(ConfigError, match="SHOP-1.*before the issue was created"):
        load_scenario(data, "cloud")
