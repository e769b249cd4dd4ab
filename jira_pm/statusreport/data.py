"""Everything the status report shows, as one JSON-ready dict (written as report.json).

The pages and charts are drawn from this dict only, so every number a page
shows is in report.json too.
"""

from __future__ import annotations

import gc
import json
import sqlite3
from bisect import bisect_right
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from jira_pm import forecast as mc
from jira_pm.calendar import WorkingCalendar, calendar_from_settings
from jira_pm.checks.budget import budget_statuses, pricer
from jira_pm.checks.context import CheckContext, SiteIndex
from jira_pm.checks.history import FieldIds
from jira_pm.model import SEVERITIES, Finding, Site, severity_rank
from jira_pm.statusreport import series
from jira_pm.statusreport.health import project_health
from jira_pm.statusreport.lookups import site_lookups
from jira_pm.words import day_text, moment_text, plural
from jira_pm.writeback.comments import finding_sentences

RECENT_DAYS = 30  # released versions and resolved findings of the last 30 days
TREND_DAYS = 90


def _rule_params(pack: Any, check: str) -> dict[str, Any]:
    for rule in pack.enabled():
        if rule.check == check:
            return dict(rule.params)
    return {}


def build_report(conn: sqlite3.Connection, settings: Any, *, projects: tuple[str, ...] = (),
                 as_of: datetime | None = None, pack: Any = None) -> dict[str, Any]:
    """The report's data for ``projects`` (default: the configured scope, else every project)."""
    from jira_pm.engine import evaluate
    from jira_pm.rulepack import load_pack
    from jira_pm.store.site import load_site

    site = load_site(conn)
    pack = pack or load_pack(settings)
    as_of = (as_of or datetime.now(UTC)).astimezone(UTC)
    calendar = calendar_from_settings(settings, years=range(as_of.year - 3, as_of.year + 3))
    findings = evaluate(site, pack, settings, as_of, calendar=calendar)
    stored = _stored_findings(conn)
    keys = sorted(projects or settings.scope.projects
                  or {i.project_key for i in site.issues.values()})
    builder = _Builder(site, settings, pack, calendar, as_of, stored)
    series_of = {key: builder.series(key) for key in keys}
    synced_at = site.synced_at
    # The rest needs only keys and names (in builder.lookups): let the site go
    # before the finding rows are built, so the two never take memory together.
    del site
    builder.release_site()
    gc.collect()
    return {
        "title": "jira-pm status report",
        "site_url": settings.jira.url,
        "as_of": as_of.isoformat(timespec="seconds"),
        "as_of_text": moment_text(as_of, calendar.zone),
        "timezone": calendar.timezone,
        "synced_at": synced_at.isoformat(timespec="seconds") if synced_at else None,
        "synced_text": moment_text(synced_at, calendar.zone) if synced_at else "never",
        "severities": list(reversed(SEVERITIES)),
        "projects": [builder.project(key, [f for f in findings if f.project_key == key],
                                     series_of.pop(key))
                     for key in keys],
    }


def _stored_findings(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT fingerprint, rule_id, check_name, subject_type, subject_id, subject_name, "
        "project_key, severity, message, evidence, issue_ids, first_seen, last_seen, "
        "resolved_at FROM findings").fetchall()
    columns = ("fingerprint", "rule_id", "check", "subject_type", "subject_id", "subject_name",
               "project_key", "severity", "message", "evidence", "issue_ids", "first_seen",
               "last_seen", "resolved_at")
    return [dict(zip(columns, tuple(row), strict=True)) for row in rows]


class _Builder:
    """Builds one project's section; holds what every project shares."""

    def __init__(self, site: Site, settings: Any, pack: Any, calendar: WorkingCalendar,
                 as_of: datetime, stored: list[dict[str, Any]]):
        from jira_pm.engine import exemption

        self.site, self.settings, self.calendar, self.as_of = site, settings, calendar, as_of
        self.today = calendar.local_date(as_of)
        self.stored = stored
        self.by_fingerprint = {row["fingerprint"]: row for row in stored}
        self.lookups = site_lookups(site, settings, calendar.zone)
        self.url = settings.jira.url.rstrip("/")
        self.forecast_params = {"window_days": mc.DEFAULT_WINDOW, "trials": mc.DEFAULT_TRIALS,
                                "seed": mc.DEFAULT_SEED, "percentile": 85}
        self.forecast_params.update(_rule_params(pack, "version_at_risk"))
        index = SiteIndex(site, FieldIds.from_settings(settings))
        exempt = exemption(settings)
        self.ctx = CheckContext(site=site, calendar=calendar, as_of=as_of,
                                params=_rule_params(pack, "budget_warning"), index=index,
                                settings=settings, exempt=exempt,
                                eligible=lambda issue: not exempt(issue))
        self.budgets = [b for b in budget_statuses(self.ctx) if b is not None]
        self.resolved_by_project: dict[str, list] = defaultdict(list)
        self.throughputs: dict[str, mc.Throughput] = {}
        for issue in site.issues.values():
            if issue.resolved_at is not None:
                self.resolved_by_project[issue.project_key].append(issue)

    def series(self, key: str) -> dict[str, Any]:
        """The project's charted numbers: the part of its section that needs the site."""
        return {"versions": self._versions(key), "sprints": self._sprints(key),
                "budgets": self._budgets(key)}

    def release_site(self) -> None:
        """Drop every reference to the site (the finding rows need only ``lookups``)."""
        self.site = self.ctx = self.budgets = None
        self.resolved_by_project = self.throughputs = None

    def project(self, key: str, findings: list[Finding], series_part: dict[str, Any]
                ) -> dict[str, Any]:
        counts = Counter(f.severity for f in findings)
        return {
            "key": key,
            "page": f"project-{key}.html",
            "health": project_health(findings, self.calendar),
            "open_by_severity": {s: counts.get(s, 0) for s in reversed(SEVERITIES)},
            "open_findings": len(findings),
            **series_part,
            "findings": [self._finding_row(f) for f in findings],
            "resolved": self._resolved(key),
            "trend": self._trend(key),
        }

    # --- versions: burn-up and forecast ---------------------------------------------------

    def _versions(self, key: str) -> list[dict[str, Any]]:
        recent = self.today - timedelta(days=RECENT_DAYS)
        shown = []
        for version in sorted(self.site.versions.values(),
                              key=lambda v: (v.release_date or date.max, v.name)):
            if version.project_key != key or version.archived:
                continue
            if version.released and not (version.release_date and version.release_date >= recent):
                continue
            burn = series.burn_up(self.ctx, version, self.today)
            remaining = sum(1 for i in self.ctx.index.version_issues.get(version.id, [])
                            if not i.is_subtask and not i.is_resolved)
            entry = {
                "id": version.id, "name": version.name, "released": version.released,
                "start": series.version_start(self.ctx, version),
                "release_date": version.release_date, "remaining_issues": remaining,
                "release_text": day_text(version.release_date) if version.release_date else None,
                "unit": burn.unit if burn else "issues",
                "days": burn.days if burn else [], "total": burn.total if burn else [],
                "done": burn.done if burn else [], "forecast": None,
                "forecast_text": "released" if version.released else "",
            }
            if not version.released:
                entry.update(self._forecast(key, remaining))
            shown.append(_jsonable(entry))
        return shown

    def _forecast(self, key: str, remaining: int) -> dict[str, Any]:
        params = self.forecast_params
        if key not in self.throughputs:  # one window per project, shared by its versions
            self.throughputs[key] = mc.throughput(self.resolved_by_project.get(key, ()),
                                                  self.calendar, self.as_of,
                                                  int(params["window_days"]))
        sampled = self.throughputs[key]
        result = mc.forecast(remaining, sampled, self.calendar, self.today,
                             trials=int(params["trials"]), seed=int(params["seed"]))
        if not result.available:
            text = (f"no forecast: nothing resolved in the last "
                    f"{plural(len(sampled.counts), 'working day')}")
            return {"forecast": None, "forecast_text": text}
        dates = {str(p): d for p, d in result.dates.items()}
        shown = ", ".join(f"{p}%: {day_text(d) if d else 'beyond ten years'}"
                          for p, d in result.dates.items())
        return {"forecast": dates, "throughput_per_day": round(sampled.per_day, 2),
                "forecast_text": f"{shown} (at {sampled.per_day:.2f} issues per working day)"}

    # --- sprints ------------------------------------------------------------------------

    def _sprints(self, key: str) -> list[dict[str, Any]]:
        ever = self.ctx.index.ever_members("sprint")
        shown = []
        for sprint in sorted(self.site.sprints.values(), key=lambda s: s.id):
            if sprint.state != "active":
                continue
            members = Counter(i.project_key for i in ever.get(sprint.id, []))
            if not members or members.most_common(1)[0][0] != key:
                continue
            scope = series.sprint_scope(self.ctx, sprint, self.today)
            if scope is None:
                continue
            shown.append(_jsonable({
                "id": sprint.id, "name": sprint.name, "start": sprint.start,
                "end": sprint.end, "unit": scope.unit, "days": scope.days,
                "baseline_total": scope.baseline_total, "baseline": scope.baseline,
                "added": scope.added, "removed": scope.removed,
                "re_estimated": scope.re_estimated,
            }))
        return shown

    # --- budgets ------------------------------------------------------------------------

    def _budgets(self, key: str) -> list[dict[str, Any]]:
        shown = []
        for status in self.budgets:
            if status.project_key != key:
                continue
            spend = series.weekly_spend(self.ctx, status.issues,
                                        pricer(self.settings, status.unit), self.today)
            shown.append(_jsonable({
                "subject_type": status.subject_type, "subject_id": status.subject_id,
                "name": f"{status.noun} {status.subject_name}"
                if status.subject_type != "version" else f"Version {status.subject_name}",
                "unit": status.unit, "currency": status.currency, "budget": status.budget,
                "warn_line": round(status.budget * status.warn_at, 2),
                "actual": round(status.actual, 2), "forecast": round(status.forecast, 2),
                "weeks": spend.weeks, "cumulative": spend.cumulative,
                "amount_text": f"{status.amount(status.actual)} of {status.amount(status.budget)}"
                               f", forecast at completion {status.amount(status.forecast)}",
            }))
        return shown

    # --- findings -----------------------------------------------------------------------

    def _issue_links(self, issue_ids) -> list[dict[str, str]]:
        links = []
        for issue_id in issue_ids:
            key = self.lookups.keys.get(int(issue_id))
            if key is not None:
                links.append({"key": key, "url": f"{self.url}/browse/{key}"})
        return links

    def _finding_row(self, finding: Finding) -> dict[str, Any]:
        row = self.by_fingerprint.get(finding.fingerprint)
        open_row = row is not None and row["resolved_at"] is None
        first_seen = datetime.fromisoformat(row["first_seen"]) if open_row else self.as_of
        age = max((self.today - self.calendar.local_date(first_seen)).days, 0)
        subject = None
        if finding.subject_type in ("issue", "epic"):
            subject = f"{self.url}/browse/{finding.subject_name}"
        return {
            "rule_id": finding.rule_id, "severity": finding.severity,
            "severity_rank": severity_rank(finding.severity),
            "subject": finding.subject_name, "subject_type": finding.subject_type,
            "subject_url": subject, "message": finding.message,
            "issues": self._issue_links(finding.issue_ids),
            "first_seen": first_seen.isoformat(timespec="seconds"),
            "first_seen_text": moment_text(first_seen, self.calendar.zone),
            "age_days": age, "age_text": plural(age, "day"),
            # The finding in its Jira comment's words (about its subject, not one issue).
            "evidence": finding_sentences(finding, self.lookups),
            "fingerprint": finding.fingerprint,
        }

    def _resolved(self, key: str) -> list[dict[str, Any]]:
        since = self.as_of - timedelta(days=RECENT_DAYS)
        rows = []
        for row in self.stored:
            if row["project_key"] != key or row["resolved_at"] is None:
                continue
            resolved = datetime.fromisoformat(row["resolved_at"])
            if not since <= resolved <= self.as_of:
                continue
            rows.append({
                "rule_id": row["rule_id"], "severity": row["severity"],
                "subject": row["subject_name"], "message": row["message"],
                "issues": self._issue_links(json.loads(row["issue_ids"])),
                "resolved_at": resolved.isoformat(timespec="seconds"),
                "resolved_text": moment_text(resolved, self.calendar.zone),
            })
        return sorted(rows, key=lambda r: r["resolved_at"], reverse=True)

    def _trend(self, key: str) -> list[dict[str, Any]]:
        """Open findings after each recorded run of the last 90 days (from the findings table)."""
        return open_trend([r for r in self.stored if r["project_key"] == key],
                          self.as_of - timedelta(days=TREND_DAYS), self.as_of)


def open_trend(rows: list[dict[str, Any]], since: datetime, until: datetime
               ) -> list[dict[str, Any]]:
    """How many of the stored findings ``rows`` were open at each recorded moment in range.

    A finding is open from its first sighting until it is resolved; the
    moments are every first seen, last seen and resolved instant. Counting
    per moment over every finding is moments x findings (quadratic on a store
    of many runs); instead openings and closings are sorted once and each
    moment's count is two binary searches.
    """
    opened, closed, moments = [], [], set()
    for row in rows:
        first = datetime.fromisoformat(row["first_seen"])
        opened.append(first)
        moments.update((first, datetime.fromisoformat(row["last_seen"])))
        if row["resolved_at"]:
            gone = datetime.fromisoformat(row["resolved_at"])
            moments.add(gone)
            closed.append(max(gone, first))  # resolved before first seen: never open
    opened.sort()
    closed.sort()
    return [{"at": moment.isoformat(timespec="seconds"),
             "open": bisect_right(opened, moment) - bisect_right(closed, moment)}
            for moment in sorted(m for m in moments if since <= m <= until)]


def _jsonable(value: Any) -> Any:
    """Dates and instants as ISO text (instants without microseconds), recursively."""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value
