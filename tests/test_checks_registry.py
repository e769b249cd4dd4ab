"""The check registry, the code table, the rules' documentation and check plugins."""

from __future__ import annotations

import importlib.metadata
import sys
from pathlib import Path

import pytest

from jira_pm.checks import registry
from jira_pm.checks.codes import CODES
from jira_pm.checks.docs import explain, rule_page, sections
from jira_pm.checks.registry import DOC_SECTIONS, all_checks, get_check, reload_checks
from jira_pm.checks.testing import at, issue, site
from jira_pm.config import Settings
from jira_pm.engine import evaluate
from jira_pm.errors import RulePackError
from jira_pm.rulepack import load_pack

DOCS = Path(__file__).resolve().parent.parent / "docs" / "rules"


def test_every_default_rule_has_a_code_check_label_and_documentation():
    """Each default rule is a coded check with a label and a docstring holding every section."""
    pack = load_pack(None)
    codes = {entry.code: entry.check for entry in CODES}
    assert {rule.id for rule in pack.rules} == set(codes)
    for rule in pack.rules:
        spec = get_check(rule.check)
        assert spec is not None and spec.code == rule.id and codes[rule.id] == rule.check
        assert rule.label and rule.label.startswith("pm-")
        found = sections(spec)
        assert list(found) == list(DOC_SECTIONS), rule.id
        assert all(len(text) > 20 for text in found.values()), rule.id
        for param in spec.params:
            assert param.name in found["Configuration"], (rule.id, param.name)
        text = explain(rule)
        assert text.startswith(f"{rule.id} — ") and f"label = {rule.label}" in text


def test_rule_pages_in_docs_match_the_docstrings():
    """docs/rules/ID.md is the generated page of each default rule (regenerate when it fails)."""
    for rule in load_pack(None).rules:
        page = DOCS / f"{rule.id}.md"
        assert page.read_text(encoding="utf-8") == rule_page(rule), (
            f"{page} is stale: run python -m jira_pm.checks.docs docs/rules")


def test_code_table_has_unique_codes_and_checks():
    """No code or check appears twice in the central table."""
    assert len({c.code for c in CODES}) == len(CODES) == len({c.check for c in CODES})


PLUGIN = '''
from jira_pm.checks import Hit, Param, check


@check("acme_unassigned", label="unassigned", severity="info",
       params=(Param("min_points", "float", 0.0, "ignore smaller issues"),))
def acme_unassigned(ctx):
    """Unassigned issues.

    What it flags:
        Unassigned issues.
    """
    for item in ctx.site.issues.values():
        if item.assignee is None and (item.story_points or 0) >= ctx.params["min_points"]:
            yield Hit("issue", str(item.id), item.key, item.project_key, "unassigned", {},
                      (item.id,))
'''


@pytest.fixture
def fake_plugin(tmp_path, monkeypatch):
    """Installs a fake distribution's entry point in the jira_pm.checks group."""
    (tmp_path / "acme_jira_checks.py").write_text(PLUGIN, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    points = [importlib.metadata.EntryPoint(
        name="acme_unassigned", value="acme_jira_checks:acme_unassigned",
        group=registry.ENTRY_POINT_GROUP)]
    monkeypatch.setattr(registry, "entry_points",
                        lambda group: points if group == registry.ENTRY_POINT_GROUP else [])
    reload_checks()
    yield points
    monkeypatch.undo()
    sys.modules.pop("acme_jira_checks", None)
    reload_checks()


def test_a_plugin_check_registers_through_the_entry_point_group(fake_plugin, tmp_path):
    """A check from the jira_pm.checks entry point group is usable in a rule file."""
    assert "acme_unassigned" in all_checks()
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "acme.toml").write_text(
        '[[rule]]\nid = "ACME-1"\ncheck = "acme_unassigned"\n[rule.params]\nmin_points = 3\n',
        encoding="utf-8")
    settings = Settings.for_tests(rules={"paths": [str(rules)], "mode": "replace"})
    pack = load_pack(settings)
    assert pack.get("ACME-1").label == "pm-unassigned"
    findings = evaluate(site(issue(1, story_points=5), issue(2, story_points=1)), pack, settings,
                        at("2026-01-01"))
    assert [(f.rule_id, f.subject_name, f.issue_ids) for f in findings] == [
        ("ACME-1", "ABC-1", (1,))]


def test_plugin_is_gone_after_uninstalling(fake_plugin, monkeypatch):
    """Without the entry point the plugin's check is unknown again."""
    monkeypatch.setattr(registry, "entry_points", lambda group: [])
    reload_checks()
    assert get_check("acme_unassigned") is None


def test_a_broken_plugin_names_itself(monkeypatch):
    """An entry point that fails to import is a RulePackError naming it."""
    points = [importlib.metadata.EntryPoint(name="broken", value="no_such_module_xyz:check",
                                            group=registry.ENTRY_POINT_GROUP)]
    monkeypatch.setattr(registry, "entry_points", lambda group: points)
    try:
        with pytest.raises(RulePackError, match="check plugin 'broken'"):
            reload_checks()
    finally:
        monkeypatch.undo()
        reload_checks()
