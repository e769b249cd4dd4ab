"""Everything the status report shows, as one JSON-ready dict (written as report.json).

The pages and charts are drawn from this dict only, so every number a page
shows is in report.json too.
"""

from __future__ import annotations

import gc
import json
import sqlite3
import zlib
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
from jira_pm.statusreport.lookups import people_names
from jira_pm.words import day_text, moment_text, plural

RECENT_DAYS = 30  # released versions and resolved findings of the last 30 days
TREND_DAYS = 90


def _rule_params(pack: Any, check: str) -> dict[str, Any]:
    for rule in pack.enabled():
        if rule.check == check:
            return dict(rule.params)
    return {}


def build_report(conn: sqlite3.Connection, settings: Any, *, projects: tuple[str, ...] = (),
                 as_of: datetime | None = None, pack: Any = None,
                 max_issues: int | None = None) -> dict[str, Any]:
    """The report's data for ``projects`` (default: the configured scope, else every project).

    Like `audit`, the store is read one part at a time (``site_parts``: groups of
    projects nothing links across, up to ``max_issues`` issues a part), so peak
    memory follows the largest part. Each part's charted series are built first
    (and kept packed, ``pack_series``, until the pages need them), then its
    findings are evaluated on the same ``SiteIndex``, then its people's names are
    kept for the finding rows; the part is released before the next one loads.
    The issue keys for the finding rows are read once no site is held (one
    light query), and the finding rows are built then.
    """
    from jira_pm.engine import _order
    from jira_pm.rulepack import load_pack
    from jira_pm.site_parts import MAX_ISSUES, site_parts

    pack = pack or load_pack(settings)
    as_of = (as_of or datetime.now(UTC)).astimezone(UTC)
    calendar = calendar_from_settings(settings, years=range(as_of.year - 3, as_of.year + 3))
    builder = _Builder(settings, pack, calendar, as_of)
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN")  # every part from one snapshot, even while a sync writes
    try:
        parts = site_parts(conn, FieldIds.from_settings(settings), max_issues or MAX_ISSUES)
        every = {row[0] for row in conn.execute("SELECT DISTINCT project_key FROM issues")}
        keys = sorted(projects or settings.scope.projects or every)
        # What SiteIndex.status_names learns from all issues, as the audit's parts use it.
        status_names = (dict(conn.execute("SELECT status, status_category FROM issues"))
                        if len(parts) > 1 else None)
        # A project with versions but no issues is in no part: chart it with the first.
        parts[0].projects |= set(keys) - set().union(*(p.projects for p in parts))
        findings: list[Finding] = []
        series_of: dict[str, bytes] = {}  # packed (``pack_series``) while sites are loaded
        for part in parts:
            whole = len(parts) == 1
            findings += builder.add_part(conn, None if whole else part,
                                         [k for k in keys if whole or k in part.projects],
                                         series_of, status_names)
        gc.collect()  # the last part's site, before the keys and finding rows take memory
        stored = _stored_findings(conn)
        # Every issue is in some part, so these are the keys the parts' sites held.
        keys_by_id = dict(conn.execute("SELECT id, key FROM issues"))
    finally:
        if own:
            conn.execute("COMMIT")
    builder.use_stored(stored, keys_by_id)
    findings.sort(key=_order)
    return {
        "title": "jira-pm status report",
        "site_url": settings.jira.url,
        "as_of": as_of.isoformat(timespec="seconds"),
        "as_of_text": moment_text(as_of, calendar.zone),
        "timezone": calendar.timezone,
        "synced_at": builder.synced_at.isoformat(timespec="seconds")
        if builder.synced_at else None,
        "synced_text": moment_text(builder.synced_at, calendar.zone)
        if builder.synced_at else "never",
        "severities": list(reversed(SEVERITIES)),
        "projects": [builder.project(key, [f for f in findings if f.project_key == key],
                                     unpack_series(series_of.pop(key, _NO_SERIES)))
                     for key in keys],
    }


def pack_series(value: dict[str, Any]) -> bytes:
    """A project's charted series (already JSON-ready) as compressed JSON text.

    The series are built while a part's whole site is loaded and kept until
    every part is done; as Python lists a day is a date string and a float per
    line (over 100 bytes a chart point, some 8 MB for 100k issues), which put
    the report's peak above the audit's. Packed, a project's series is a few
    hundred bytes per chart; JSON gives back exactly the same values (floats
    round-trip by their shortest repr, -0.0 included).
    """
    return zlib.compress(json.dumps(value, separators=(",", ":")).encode("utf-8"))


def unpack_series(packed: bytes) -> dict[str, Any]:
    """The series ``pack_series`` packed, equal to what was packed."""
    return json.loads(zlib.decompress(packed))


# A project in scope with no issues in the store: nothing to chart.
_NO_SERIES = pack_series({"versions": [], "sprints": [], "budgets": []})


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
    """Builds one project's section; holds what every project shares.

    ``add_part`` holds one part's site (``site``, ``ctx``, ``budgets``) while
    it charts and evaluates it; the finding rows need only ``lookups``, made by
    ``use_stored`` once no site is held. The comment sentences' module is imported
    only then too: it brings the HTTP stack (several MiB) with it.
    """

    def __init__(self, settings: Any, pack: Any, calendar: WorkingCalendar, as_of: datetime):
        self.settings, self.pack, self.calendar, self.as_of = settings, pack, calendar, as_of
        self.today = calendar.local_date(as_of)
        self.stored: list[dict[str, Any]] = []
        self.by_fingerprint: dict[str, dict[str, Any]] = {}
        self.names: dict[str, str] = {}  # account id -> display name, from every part
        self.lookups: Any = None  # a writeback.comments.Lookups, from use_stored
        self.synced_at: datetime | None = None
        self.url = settings.jira.url.rstrip("/")
        self.forecast_params = {"window_days": mc.DEFAULT_WINDOW, "trials": mc.DEFAULT_TRIALS,
                                "seed": mc.DEFAULT_SEED, "percentile": 85}
        self.forecast_params.update(_rule_params(pack, "version_at_risk"))
        self.site: Site | None = None
        self.ctx: CheckContext | None = None
        self.budgets: list | None = None
        self.resolved_by_project: dict[str, list] = {}
        self.throughputs: dict[str, mc.Throughput] = {}

    def add_part(self, conn: Any, part: Any, charted: list[str], series_of: dict[str, bytes],
                 status_names: dict[str, str] | None) -> list[Finding]:
        """Chart the projects ``charted`` into ``series_of`` (packed); return the part's findings.

        ``part`` None is the whole store in one. The series come before the
        evaluation, so the findings and the charts' working data never take
        memory together; both read one ``SiteIndex``, built once.
        """
        from jira_pm.engine import evaluate, exemption
        from jira_pm.store.site import load_site

        site = (load_site(conn) if part is None
                else load_site(conn, projects=part.projects, sprint_ids=part.sprint_ids))
        index = SiteIndex(site, FieldIds.from_settings(self.settings))
        if status_names is not None:
            index.status_names = status_names  # a cached_property: this value is used instead
        exempt = exemption(self.settings)
        self.site = site
        self.ctx = CheckContext(site=site, calendar=self.calendar, as_of=self.as_of,
                                params=_rule_params(self.pack, "budget_warning"), index=index,
                                settings=self.settings, exempt=exempt,
                                eligible=lambda issue: not exempt(issue))
        self.budgets = [b for b in budget_statuses(self.ctx) if b is not None]
        self.resolved_by_project = defaultdict(list)
        for issue in site.issues.values():
            if issue.resolved_at is not None:
                self.resolved_by_project[issue.project_key].append(issue)
        for key in charted:
            series_of[key] = pack_series(self.series(key))
        self.site = self.ctx = self.budgets = None
        self.resolved_by_project, self.throughputs = {}, {}
        findings = evaluate(site, self.pack, self.settings, self.as_of, calendar=self.calendar,
                            status_names=status_names, index=index)
        self.names.update(people_names(site))
        self.synced_at = site.synced_at  # the store's latest sync, whichever part
        return findings

    def use_stored(self, stored: list[dict[str, Any]], keys: dict[int, str]) -> None:
        """The store's recorded findings (first seen, resolved, trend) and its issue keys."""
        from jira_pm.writeback.comments import Lookups

        self.lookups = Lookups(keys=keys, names=self.names, zone=self.calendar.zone,
                               site_url=self.settings.jira.url)
        self.stored = stored
        self.by_fingerprint = {row["fingerprint"]: row for row in stored}

    def series(self, key: str) -> dict[str, Any]:
        """The project's charted numbers: the part of its section that needs the site."""
        return {"versions": self._versions(key), "sprints": self._sprints(key),
                "budgets": self._budgets(key)}

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
        from jira_pm.writeback.comments import finding_sentences

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
