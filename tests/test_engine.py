"""The engine: rules over a site, fingerprints, exemptions, and the diff with the last run."""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import UTC, datetime

import pytest

from jira_pm.checks import registry
from jira_pm.checks.testing import at, day, issue, site, worklog
from jira_pm.config import Settings
from jira_pm.engine import evaluate, evaluate_store, fingerprint
from jira_pm.errors import JiraPmError, StoreError
from jira_pm.model import CATEGORY_DONE, Version
from jira_pm.rulepack import load_pack
from jira_pm.store import connect
from jira_pm.store.findings import finding_times, open_findings, record_findings
from jira_pm.store.issues import save_issues, save_versions

NOW = at("2026-04-13T09:00")


def overdue_site(**changes):
    return site(
        issue(1, due_date=day("2026-04-10"), **changes),
        issue(2, due_date=day("2026-04-10"), project="OPS"),
        issue(3, due_date=day("2026-04-10"), issue_type="Incident"),
        issue(4, due_date=day("2026-04-10"), labels=("pm-ignore",)),
        issue(5, original_estimate_seconds=3600, worklogs=[worklog(5, 3)]),
        versions=[Version(50, "ABC", "2.0", None, day("2026-04-01"), False, False)],
    )


def test_fingerprint_depends_on_rule_and_subject_only():
    """The fingerprint is the same for the same rule and subject whatever the message or numbers."""
    s1 = overdue_site()
    s2 = overdue_site(status="Blocked")
    settings = Settings.for_tests()
    pack = load_pack(settings)
    first = {f.rule_id + f.subject_id: f for f in evaluate(s1, pack, settings, NOW)}
    later = {f.rule_id + f.subject_id: f
             for f in evaluate(s2, pack, settings, at("2026-04-20T09:00"))}
    assert first["OD0021"].message != later["OD0021"].message
    assert first["OD0021"].fingerprint == later["OD0021"].fingerprint
    assert first["OD0021"].fingerprint == fingerprint("OD002", "issue", "1")
    assert fingerprint("OD002", "issue", "1") != fingerprint("OD002", "issue", "2")
    assert fingerprint("OD002", "issue", "1") != fingerprint("BU004", "issue", "1")


@pytest.mark.parametrize("configured_type", ["Incident", "incident"])
def test_exemptions_and_rule_scope_suppress_findings(configured_type):
    """Exempt labels, issue types (any case), projects and a rule's scope never produce findings."""
    settings = Settings.for_tests(writeback={"exempt_issue_types": [configured_type],
                                             "exempt_projects": ["OPS"]})
    pack = load_pack(settings)
    findings = evaluate(overdue_site(), pack, settings, NOW)
    assert [(f.rule_id, f.subject_name, f.issue_ids) for f in findings] == [
        ("BU004", "ABC-5", (5,)), ("OD002", "ABC-1", (1,)),
    ]
    assert all(f.label and f.severity and f.comment_policy == "once" for f in findings)
    scoped = dataclasses.replace(pack.get("OD002"), projects=("OPS",))
    only_ops = dataclasses.replace(pack, rules=(scoped,))
    assert evaluate(overdue_site(), only_ops, Settings.for_tests(), NOW)[0].subject_name == "OPS-2"


def test_labels_only_go_on_eligible_issues_even_for_container_findings():
    """A version finding labels its open issues except exempt ones."""
    s = site(
        issue(1, fix_version_ids=(50,)),
        issue(2, fix_version_ids=(50,), labels=("pm-ignore",)),
        issue(3, fix_version_ids=(50,), status_category=CATEGORY_DONE),
        versions=[Version(50, "ABC", "2.0", None, day("2026-04-01"), False, False)],
    )
    settings = Settings.for_tests()
    pack = load_pack(settings)
    [od001] = [f for f in evaluate(s, pack, settings, NOW) if f.rule_id == "OD001"]
    assert od001.issue_ids == (1,)
    assert od001.label == "pm-overdue"


def test_naive_as_of_is_refused():
    """as_of must carry a time zone: a naive datetime is a programming error."""
    with pytest.raises(ValueError):
        evaluate(site(), load_pack(None), None, datetime(2026, 1, 1))


def test_record_findings_tracks_first_seen_last_seen_and_resolved(store_path):
    """Recording runs gives new, still-open and resolved findings with their times."""
    conn = connect(store_path)
    settings = Settings.for_tests()
    pack = load_pack(settings)
    findings = evaluate(overdue_site(), pack, settings, NOW)
    first = record_findings(conn, findings, NOW)
    assert len(first.new) == len(findings) > 1 and first.resolved == []
    second = record_findings(conn, findings[1:], at("2026-04-14"))
    assert second.new == [] and len(second.still_open) == len(findings) - 1
    assert [f.fingerprint for f in second.resolved] == [findings[0].fingerprint]
    times = finding_times(conn, findings[1].fingerprint)
    assert times == {"first_seen": "2026-04-13T09:00:00+00:00",
                     "last_seen": "2026-04-14T00:00:00+00:00", "resolved_at": None}
    assert finding_times(conn, findings[0].fingerprint)["resolved_at"] == (
        "2026-04-14T00:00:00+00:00")
    assert [f.fingerprint for f in open_findings(conn)] == [f.fingerprint for f in findings[1:]]
    third = record_findings(conn, findings, at("2026-04-15"))
    assert [f.fingerprint for f in third.new] == [findings[0].fingerprint]
    assert finding_times(conn, findings[0].fingerprint) == {
        "first_seen": "2026-04-15T00:00:00+00:00", "last_seen": "2026-04-15T00:00:00+00:00",
        "resolved_at": None}
    assert open_findings(conn)[0] == findings[0]  # stored and loaded unchanged


def test_record_findings_is_one_transaction(store_path, store_backend):
    """A failure half-way through recording leaves the previous run's findings intact."""
    conn = connect(store_path)
    settings = Settings.for_tests()
    findings = evaluate(overdue_site(), load_pack(settings), settings, NOW)
    record_findings(conn, findings, NOW)
    broken = dataclasses.replace(findings[1], evidence={"x": object()})
    broken = dataclasses.replace(broken, message=None)  # NOT NULL violation on write
    # PostgreSQL's constraint error reaches callers as a StoreError (see store/postgres.py).
    refused = StoreError if store_backend == "postgresql" else sqlite3.IntegrityError
    with pytest.raises(refused):
        record_findings(conn, [findings[1], broken], at("2026-04-14"))
    assert [f.fingerprint for f in open_findings(conn)] == [f.fingerprint for f in findings]
    assert finding_times(conn, findings[0].fingerprint)["resolved_at"] is None
    # findings[1]'s last_seen UPDATE ran before the failure: only the rollback undoes it.
    assert finding_times(conn, findings[1].fingerprint)["last_seen"] == NOW.isoformat()


def test_evaluate_store_reads_the_store_and_diffs_runs(store_path):
    """evaluate_store evaluates the stored snapshot and reports new, then still open."""
    conn = connect(store_path)
    issues = [issue(1, due_date=day("2026-04-10")), issue(2, fix_version_ids=(50,))]
    save_issues(conn, issues, {i.id: {"id": str(i.id)} for i in issues}, NOW)
    save_versions(conn, [Version(50, "ABC", "2.0", None, day("2026-04-01"), False, False,
                                 first_seen=at("2026-03-01"))])
    settings = Settings.for_tests()
    run1 = evaluate_store(conn, settings, as_of=NOW)
    assert sorted(f.rule_id for f in run1.new) == ["OD001", "OD002"]
    assert run1.recorded
    run2 = evaluate_store(conn, settings, as_of=at("2026-04-14"))
    assert run2.new == [] and len(run2.still_open) == 2
    no_risk = dataclasses.replace(settings, rules=dataclasses.replace(
        settings.rules, disabled=("OD003",)))
    dry = evaluate_store(conn, no_risk, as_of=at("2026-03-01"), record=False)
    assert dry.findings == [] and len(dry.resolved) == 2
    assert len(open_findings(conn)) == 2  # record=False wrote nothing


def test_a_failing_check_names_its_rule(monkeypatch):
    """A check that raises is reported as one error naming the rule and check."""
    settings = Settings.for_tests()
    pack = load_pack(settings)
    spec = pack.get("BU004").spec

    def boom(ctx):
        raise ZeroDivisionError("oops")

    monkeypatch.setitem(registry._REGISTRY, "over_estimate", dataclasses.replace(spec, run=boom))
    with pytest.raises(JiraPmError, match="rule BU004 \\(check over_estimate\\) failed"):
        evaluate(site(issue(1)), pack, settings, datetime(2026, 1, 1, tzinfo=UTC))


def test_evaluate_store_reports_a_budget_problem_once_without_logging(store_path, caplog):
    """A [[budget]] on a missing epic is one problem per evaluation, not a log line per rule."""
    conn = connect(store_path)
    issues = [issue(1, worklogs=[worklog(1, 3)])]
    save_issues(conn, issues, {i.id: {"id": str(i.id)} for i in issues}, NOW)
    settings = Settings.for_tests(projects=["ABC"], budget=[{"epic": "ABC-999", "hours": 1}])
    evaluation = evaluate_store(conn, settings, as_of=NOW)
    assert len(evaluation.problems) == 1 and "'ABC-999' is not in the store" in \
        evaluation.problems[0]
    assert caplog.records == []


def test_the_diff_decodes_only_the_findings_it_resolves(store_path, monkeypatch):
    """Diffing with the last run reads back whole only the findings that run resolves."""
    from jira_pm.store import findings as stored

    conn = connect(store_path)
    settings = Settings.for_tests()
    findings = evaluate(overdue_site(), load_pack(settings), settings, NOW)
    record_findings(conn, findings, NOW)
    decoded = []
    real = stored._row_to_finding
    monkeypatch.setattr(stored, "_row_to_finding",
                        lambda row: decoded.append(row["fingerprint"]) or real(row))
    diff = stored.diff_findings(conn, findings[1:])
    assert diff.resolved == [findings[0]] and diff.new == []
    assert [f.fingerprint for f in diff.still_open] == [f.fingerprint for f in findings[1:]]
    assert decoded == [findings[0].fingerprint]
