"""Loading and validating rule packs."""

from __future__ import annotations

from pathlib import Path

import pytest

from jira_pm.config import Settings
from jira_pm.errors import RulePackError
from jira_pm.rulepack import load_pack, read_rule_file

GOOD = """
[[rule]]
id = "ACME-1"
check = "due_date_overdue"
severity = "critical"
label = "pm-late"
comment_policy = "never"
projects = ["ABC"]
issue_types = ["Story", "Bug"]
[rule.params]
grace_days = 2
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def settings(**rules):
    return Settings.for_tests(rules=rules) if rules else Settings.for_tests()


def test_built_in_pack_has_every_code_enabled_with_prefixed_labels():
    """The default pack holds the ten coded rules, enabled, with pm- labels."""
    pack = load_pack(settings())
    assert [r.id for r in pack.rules] == sorted(
        ["SC001", "SC002", "SC003", "OD001", "OD002", "OD003", "BU001", "BU002", "BU003", "BU004"]
    )
    assert all(r.enabled for r in pack.rules)
    assert pack.owned_labels() == {
        "pm-scope-creep", "pm-overdue", "pm-at-risk", "pm-budget-warning", "pm-budget-breach",
        "pm-budget-risk", "pm-over-estimate",
    }
    assert pack.get("SC001").params == {"threshold": 0.1, "measure": "points"}


def test_user_rules_extend_and_same_id_replaces(tmp_path):
    """A user's folder adds rules, and a rule with a built-in id replaces it."""
    write(tmp_path / "rules", "mine.toml", GOOD + """
[[rule]]
id = "SC001"
check = "scope_creep_sprint"
[rule.params]
threshold = 0.25
""")
    pack = load_pack(settings(paths=[str(tmp_path / "rules")]))
    assert len(pack.rules) == 11
    mine = pack.get("ACME-1")
    assert (mine.severity, mine.label, mine.comment_policy) == ("critical", "pm-late", "never")
    assert mine.projects == ("ABC",) and mine.issue_types == ("Story", "Bug")
    assert mine.params == {"grace_days": 2}
    assert pack.get("SC001").params == {"threshold": 0.25, "measure": "points"}
    assert pack.get("SC001").source.name == "mine.toml"
    assert "pm-late" in pack.owned_labels()


def test_replace_mode_and_disabled_rules(tmp_path):
    """mode = replace drops the built-in pack; disabled rules stay in the pack, switched off."""
    write(tmp_path / "r", "a.toml", GOOD)
    pack = load_pack(settings(paths=[str(tmp_path / "r")], mode="replace"))
    assert [r.id for r in pack.rules] == ["ACME-1"]
    pack = load_pack(settings(disabled=["SC001", "BU004"]))
    assert {r.id for r in pack.rules if not r.enabled} == {"SC001", "BU004"}
    assert "pm-over-estimate" in pack.owned_labels()  # so write-back can remove it
    assert "SC001" not in {r.id for r in pack.enabled()}


def test_cli_rules_folder_extends_the_configured_pack(tmp_path):
    """Extra paths (--rules DIR) are read after the configured ones."""
    write(tmp_path / "cli", "x.toml", GOOD)
    pack = load_pack(settings(), extra_paths=[tmp_path / "cli"])
    assert pack.get("ACME-1").check == "due_date_overdue"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[[rule]\nid=", "not valid TOML"),
        ('[[rule]]\nid = "X1"\ncheck = "nope"', "rule X1: key 'check' names an unknown check"),
        ('[[rule]]\nid = "X1"\ncheck = "over_estimate"\ncolour = "red"',
         "rule X1: key 'colour' is not a rule key"),
        ('[[rule]]\nid = "X1"\ncheck = "over_estimate"\nenabled = "yes"',
         "rule X1: key 'enabled' must be true or false"),
        ('[[rule]]\nid = "X1"\ncheck = "over_estimate"\nseverity = "urgent"',
         "rule X1: key 'severity' is 'urgent'"),
        ('[[rule]]\nid = "X1"\ncheck = "over_estimate"\nlabel = "late"',
         "rule X1: key 'label' 'late' does not start with the label prefix 'pm-'"),
        ('[[rule]]\nid = "X1"\ncheck = "over_estimate"\ncomment_policy = "always"',
         "rule X1: key 'comment_policy' is 'always'"),
        ('[[rule]]\nid = "X1"\ncheck = "over_estimate"\n[rule.params]\ntolerance = "20%"',
         "rule X1: key 'params.tolerance' must be float, not str"),
        ('[[rule]]\nid = "X1"\ncheck = "over_estimate"\n[rule.params]\nslack = 1',
         "rule X1: key 'params.slack' is not a parameter of check over_estimate"),
        ('[[rule]]\nid = "X1"\ncheck = "scope_creep_sprint"\n[rule.params]\nmeasure = "days"',
         "rule X1: key 'params.measure' is 'days'"),
        ('[[rule]]\nid = "X1"\ncheck = "version_overdue"\n[rule.params]\ngrace_days = true',
         "rule X1: key 'params.grace_days' must be int, not bool"),
        ('[[rule]]\ncheck = "over_estimate"', "rule #1: key 'id' is missing"),
        ('[[rule]]\nid = "X1"\ncheck = "over_estimate"\nprojects = "ABC"',
         "rule X1: key 'projects' must be a list of strings"),
        ('[[rule]]\nid = "X1"\ncheck = "over_estimate"\n'
         '[[rule]]\nid = "X1"\ncheck = "over_estimate"',
         "rule X1: key 'id' is used twice"),
        ('rule = 3', "key 'rule' must be [[rule]] tables"),
        ('[rules]\nx = 1', "key 'rules' is not allowed"),
    ],
)
def test_bad_rule_files_name_the_file_rule_and_key(tmp_path, text, expected):
    """Each mistake in a rule file is one RulePackError naming the file, the rule and the key."""
    path = write(tmp_path, "bad.toml", text)
    with pytest.raises(RulePackError) as info:
        read_rule_file(path)
    line = info.value.one_line()
    assert str(path) in line and expected in line
    assert "\n" not in line
    assert info.value.exit_code == 2


def test_duplicate_id_across_user_files_is_an_error(tmp_path):
    """Two user files defining the same rule id are refused, naming both files."""
    write(tmp_path / "r", "a.toml", GOOD)
    write(tmp_path / "r", "b.toml", GOOD)
    with pytest.raises(RulePackError, match=r"b\.toml: rule ACME-1: key 'id' duplicates") as info:
        load_pack(settings(paths=[str(tmp_path / "r")]))
    assert "a.toml" in info.value.one_line()


def test_unknown_disabled_rule_and_missing_path_are_errors(tmp_path):
    """Disabling an unknown rule or pointing at a missing folder is an error, not a no-op."""
    with pytest.raises(RulePackError, match="SC999"):
        load_pack(settings(disabled=["SC999"]))
    with pytest.raises(RulePackError, match="does not exist"):
        load_pack(settings(), extra_paths=[tmp_path / "missing"])


def test_label_prefix_from_settings_applies_to_built_in_labels(tmp_path):
    """With another label prefix, built-in labels take it and user labels must start with it."""
    acme = Settings.for_tests(writeback={"label_prefix": "acme-"})
    pack = load_pack(acme)
    assert pack.get("OD001").label == "acme-overdue"
    write(tmp_path / "r", "a.toml", GOOD)
    with pytest.raises(RulePackError, match="'pm-late' does not start with the label prefix"):
        load_pack(acme, extra_paths=[tmp_path / "r"])


def test_rule_description_is_shown_by_explain(tmp_path):
    """A rule's description is printed under its title by `rules explain`."""
    from jira_pm.checks.docs import explain

    path = write(tmp_path, "a.toml",
                 '[[rule]]\nid = "R1"\ncheck = "over_estimate"\ndescription = "For ACME"')
    [rule] = read_rule_file(path)
    assert explain(rule).splitlines()[2] == "For ACME"


def test_empty_label_means_report_only(tmp_path):
    """label = "" makes a rule that reports without labelling."""
    path = write(tmp_path, "a.toml", '[[rule]]\nid = "R1"\ncheck = "over_estimate"\nlabel = ""')
    [rule] = read_rule_file(path)
    assert rule.label is None


def test_a_rule_may_not_write_the_exempt_label(tmp_path):
    """A rule labelled with the exempt label is refused, naming the file, rule and key."""
    write(tmp_path / "r", "x.toml", GOOD.replace('"pm-late"', '"pm-hold"'))
    cfg = Settings.for_tests(rules={"paths": [str(tmp_path / "r")]},
                             writeback={"exempt_label": "pm-hold"})
    with pytest.raises(RulePackError, match=r"x\.toml: rule ACME-1: key 'label' is the exempt"):
        load_pack(cfg)


def test_a_rules_project_keys_are_read_as_jira_spells_them(tmp_path):
    """projects = ["abc"] in a rule file scopes the rule to ABC, as Jira's keys are upper case."""
    write(tmp_path / "rules", "mine.toml", GOOD.replace('projects = ["ABC"]',
                                                      'projects = ["abc"]'))
    pack = load_pack(settings(paths=[str(tmp_path / "rules")]))
    assert pack.get("ACME-1").projects == ("ABC",)
