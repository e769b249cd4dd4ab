"""The rule engine: run the enabled rules of a pack over a site snapshot.

``evaluate`` is pure (site in, findings out); ``evaluate_store`` loads the
snapshot from the store, evaluates, and records the findings so the result
says what is new, still open and resolved since the last run.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from jira_pm.calendar import WorkingCalendar, calendar_from_settings
from jira_pm.checks.budget import budget_problems
from jira_pm.checks.context import CheckContext, SiteIndex
from jira_pm.checks.history import ChangeNeeds, FieldIds
from jira_pm.checks.registry import Hit
from jira_pm.errors import JiraPmError
from jira_pm.exemptions import exemption_reason
from jira_pm.gcpause import collector_paused
from jira_pm.model import Finding, Issue, Site
from jira_pm.rulepack import Rule, RulePack, load_pack

if TYPE_CHECKING:
    from jira_pm.store.site import ChangeFields

log = logging.getLogger(__name__)


def fingerprint(rule_id: str, subject_type: str, subject_id: str) -> str:
    """Stable id of a finding: the same rule on the same subject, whatever the numbers."""
    text = f"{rule_id}\x1f{subject_type}\x1f{subject_id}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def exemption(settings) -> Callable[[Issue], bool]:
    """True for issues the write-back settings exempt (label, issue type, project)."""
    writeback = getattr(settings, "writeback", None)
    label = getattr(writeback, "exempt_label", None) or None
    types = frozenset(t.lower() for t in getattr(writeback, "exempt_issue_types", ()) or ())
    projects = frozenset(getattr(writeback, "exempt_projects", ()) or ())

    def exempt(issue: Issue) -> bool:
        return exemption_reason(issue, label, types, projects) is not None

    return exempt


def _eligibility(rule: Rule, exempt: Callable[[Issue], bool]) -> Callable[[Issue], bool]:
    projects = frozenset(rule.projects)
    types = frozenset(rule.issue_types)

    def eligible(issue: Issue) -> bool:
        if projects and issue.project_key not in projects:
            return False
        if types and issue.issue_type not in types:
            return False
        return not exempt(issue)

    return eligible


def _years(as_of: datetime) -> range:
    return range(as_of.year - 3, as_of.year + 3)


def evaluate(
    site: Site,
    pack: RulePack,
    settings,
    as_of: datetime,
    *,
    calendar: WorkingCalendar | None = None,
    status_names: dict[str, str] | None = None,
    index: SiteIndex | None = None,
) -> list[Finding]:
    """Findings of every enabled rule of ``pack`` on ``site`` at ``as_of`` (sorted, stable).

    ``status_names`` (status name -> category, as the whole store's issues teach it)
    is for a site that is one part of the store: what the part's own issues teach
    could miss a name that a changelog item without ids carries. ``index`` is
    a ``SiteIndex`` of ``site`` the caller already built (the status report
    charts from the same one): its cached lookups are not built twice.
    """
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    as_of = as_of.astimezone(UTC)
    calendar = calendar or calendar_from_settings(settings, years=_years(as_of))
    index = index or SiteIndex(site, FieldIds.from_settings(settings))
    if status_names is not None:
        index.status_names = status_names  # a cached_property: this value is used instead
    exempt = exemption(settings)
    findings: dict[str, Finding] = {}
    # A site is millions of objects; the cyclic GC would rescan them over and over
    # while the checks allocate, and nothing here makes reference cycles.
    with collector_paused():
        for rule in pack.enabled():
            _run_rule(rule, site, settings, calendar, as_of, index, exempt, findings)
        return sorted(findings.values(), key=_order)


def _run_rule(rule, site, settings, calendar, as_of, index, exempt, findings) -> None:
    """Run one rule's check and add its findings (by fingerprint) to ``findings``."""
    eligible = _eligibility(rule, exempt)
    ctx = CheckContext(
        site=site,
        calendar=calendar,
        as_of=as_of,
        params=dict(rule.params),
        index=index,
        settings=settings,
        rule=rule,
        eligible=eligible,
        exempt=exempt,
    )
    try:
        hits = list(rule.spec.run(ctx))
    except JiraPmError:
        raise
    except Exception as exc:  # a plugin's bug must name the rule, not end the run silently
        raise JiraPmError(
            f"rule {rule.id} (check {rule.check}) failed: {type(exc).__name__}: {exc}",
            hint="rerun with --debug; disable the rule with [rules] disabled meanwhile",
        ) from exc
    for hit in hits:
        finding = _finding(rule, hit, site, eligible)
        findings[finding.fingerprint] = finding


def _order(finding: Finding) -> tuple:
    return (finding.rule_id, finding.project_key or "", finding.subject_type, finding.subject_name,
            finding.subject_id)


def _finding(rule: Rule, hit: Hit, site: Site, eligible: Callable[[Issue], bool]) -> Finding:
    # Labels only ever go on eligible issues, whatever a (third-party) check asked for.
    issue_ids = tuple(
        sorted({i for i in hit.issue_ids if i in site.issues and eligible(site.issues[i])})
    ) if rule.label else ()
    return Finding(
        rule_id=rule.id,
        check=rule.check,
        subject_type=hit.subject_type,
        subject_id=hit.subject_id,
        subject_name=hit.subject_name,
        project_key=hit.project_key,
        severity=rule.severity,
        message=hit.message,
        evidence=hit.evidence,
        issue_ids=issue_ids,
        label=rule.label,
        comment_policy=rule.comment_policy,
        fingerprint=fingerprint(rule.id, hit.subject_type, hit.subject_id),
    )


@dataclass
class Evaluation:
    """One run's findings and how they differ from the last recorded run."""

    findings: list[Finding]
    new: list[Finding] = field(default_factory=list)
    still_open: list[Finding] = field(default_factory=list)
    resolved: list[Finding] = field(default_factory=list)
    as_of: datetime | None = None
    recorded: bool = False
    # Config that loads but does not fit the site (a [[budget]] on a missing issue):
    # one line each, for `run`'s summary, `audit` and the JSON log.
    problems: list[str] = field(default_factory=list)


def config_problems(site: Site, settings) -> list[str]:
    """Settings that are valid on their own but wrong for this site, once per evaluation."""
    return budget_problems(site, settings)


def evaluate_store(
    conn,
    settings,
    pack: RulePack | None = None,
    as_of: datetime | None = None,
    *,
    record: bool = True,
) -> Evaluation:
    """Evaluate the store's snapshot; with ``record``, store the findings and diff them."""
    from jira_pm.store.findings import diff_findings, record_findings

    pack = pack or load_pack(settings)
    as_of = as_of or datetime.now(UTC)
    findings, problems = evaluate_in_parts(conn, settings, pack, as_of)
    if record:
        diff = record_findings(conn, findings, as_of)
    else:
        diff = diff_findings(conn, findings)
    return Evaluation(
        findings=findings,
        new=diff.new,
        still_open=diff.still_open,
        resolved=diff.resolved,
        as_of=as_of,
        recorded=record,
        problems=problems,
    )


def evaluate_in_parts(conn, settings, pack: RulePack, as_of: datetime,
                      max_issues: int | None = None) -> tuple[list[Finding], list[str]]:
    """Findings and config problems of the store, evaluated one part at a time.

    Peak memory follows the largest part, not the store (see ``site_parts``);
    the findings are those of the whole store evaluated at once.
    """
    from jira_pm.site_parts import MAX_ISSUES

    conn.execute("BEGIN")  # every part from one snapshot, even while a sync writes
    try:
        return _evaluate_parts(conn, settings, pack, as_of, max_issues or MAX_ISSUES)
    finally:
        conn.execute("COMMIT")


def _evaluate_parts(conn, settings, pack: RulePack, as_of: datetime,
                    max_issues: int) -> tuple[list[Finding], list[str]]:
    from jira_pm.site_parts import site_parts
    from jira_pm.store.site import changelog_fields, load_site, load_versions

    field_ids = FieldIds.from_settings(settings)
    fields = changelog_fields(conn)
    parts = site_parts(conn, field_ids, max_issues, fields)
    needed = change_fields(pack, field_ids, fields)
    if len(parts) == 1:
        site = load_site(conn, change_fields=needed)
        return evaluate(site, pack, settings, as_of), config_problems(site, settings)
    calendar = calendar_from_settings(settings, years=_years(as_of.astimezone(UTC)))
    # What SiteIndex.status_names learns from all issues, in load order (the last one wins).
    status_names = dict(conn.execute("SELECT status, status_category FROM issues"))
    findings: list[Finding] = []
    budgets = [Site(versions=load_versions(conn))]
    for part in parts:
        site = load_site(conn, projects=part.projects, sprint_ids=part.sprint_ids,
                         change_fields=needed)
        findings += evaluate(site, pack, settings, as_of, calendar=calendar,
                             status_names=status_names)
        budgets.append(_budget_subjects(site, settings))
        del site
    return sorted(findings, key=_order), config_problems(_merged(budgets), settings)


def change_fields(pack: RulePack, field_ids: FieldIds,
                  fields: list[tuple[str, str | None]]) -> ChangeFields | None:
    """The changelog fields the pack's enabled rules read (of the store's ``fields``).

    None (load every item) when a rule's check does not say what it reads. A field
    name is loaded whole when any of its field ids is of a needed kind: the checks
    pick their items by kind again, so a few extra items change nothing.
    """
    from jira_pm.store.site import ChangeFields

    needs = ChangeNeeds()
    for rule in pack.enabled():
        if rule.spec.changes is None:
            return None
        needs |= rule.spec.changes
    every = {f for f, i in fields if field_ids.kind_of_field(f, i) in needs.every}
    epics = {f for f, i in fields if field_ids.kind_of_field(f, i) in needs.epics}
    return ChangeFields(frozenset(every), frozenset(epics - every), needs.subtasks)


def _budget_subjects(site: Site, settings) -> Site:
    """The issues of ``site`` that [[budget]] entries name: all config_problems reads of them."""
    keys = {entry.ref for entry in getattr(settings, "budgets", ()) or () if entry.kind == "epic"}
    return Site(issues={i.id: i for i in site.issues.values() if i.key in keys})


def _merged(sites: list[Site]) -> Site:
    merged = Site()
    for site in sites:
        merged.issues.update(site.issues)
        merged.versions.update(site.versions)
    return merged
