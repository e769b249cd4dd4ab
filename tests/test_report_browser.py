"""The status report of a generated sandbox site, opened in headless Chromium (both flavours)."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from browser_support import Browser
from test_sync_sandbox import settings_for

from jira_pm.jira.client import JiraClient
from jira_pm.runner import run_pipeline
from jira_pm.sandbox import Sandbox
from jira_pm.statusreport import generate

AS_OF = datetime.fromisoformat("2026-11-20T12:00:00+00:00")  # the generated site's "now"

DOM_FACTS = """JSON.stringify({
  charts: Array.from(document.querySelectorAll('figure[data-chart]')).map(f => ({
    key: f.dataset.chart, svg: !!f.querySelector('svg')})),
  findings: Array.from(document.querySelectorAll('#findings tr.finding')).map(r => ({
    fingerprint: r.dataset.fingerprint,
    links: Array.from(r.querySelectorAll('a.issue')).map(a => [a.textContent, a.href]),
    evidence: !!r.querySelector('details')})),
  scripts: document.querySelectorAll('script').length,
  projects: Array.from(document.querySelectorAll('#portfolio tr[data-project]')).map(
    r => r.dataset.project),
  health: document.querySelectorAll('#portfolio td[data-health] .rag').length,
})"""


@pytest.fixture(scope="module")
def browser():
    running = Browser()
    yield running
    running.close()


@pytest.fixture(params=["cloud", "server"])
def site(request):
    with Sandbox(flavor=request.param, issues=160, seed=3) as running:
        yield running


def test_report_renders_every_chart_and_finding_with_no_network(site, browser, tmp_path):
    """Every version, sprint and budget has a chart, every finding a row with Jira links,
    and no page requests anything beyond its own file or logs an error."""
    budgets = [{"project": key, "hours": 100} for key in sorted(site.state.projects)[:1]]
    settings = settings_for(site, tmp_path / "s.sqlite", budget=budgets)
    run_pipeline(settings, JiraClient.from_settings(settings.jira), as_of=AS_OF, dry_run=True)
    index = generate(settings, tmp_path / "report", as_of=AS_OF)
    data = json.loads((tmp_path / "report" / "report.json").read_text())
    keys = {issue.key for issue in site.state.issues.values()}

    portfolio = browser.visit(index.as_uri(), DOM_FACTS)
    (tmp_path / "index.png").write_bytes(portfolio.screenshot)
    assert portfolio.screenshot.startswith(b"\x89PNG")
    assert portfolio.facts["projects"] == [p["key"] for p in data["projects"]]
    assert portfolio.facts["health"] == 3 * len(data["projects"])
    pages = [portfolio]
    charts_seen = findings_seen = 0
    for project in data["projects"]:
        page = index.parent / project["page"]
        visit = browser.visit(page.as_uri(), DOM_FACTS)
        pages.append(visit)
        assert visit.screenshot.startswith(b"\x89PNG")
        charts = {c["key"]: c["svg"] for c in visit.facts["charts"]}
        expected = ([f"version-{v['id']}" for v in project["versions"]]
                    + [f"sprint-{s['id']}" for s in project["sprints"]]
                    + [f"budget-{b['subject_type']}-{b['subject_id']}"
                       for b in project["budgets"]])
        assert all(charts.get(key) for key in expected), (project["key"], charts)
        charts_seen += len(expected)
        rows = {r["fingerprint"]: r for r in visit.facts["findings"]}
        assert set(rows) == {f["fingerprint"] for f in project["findings"]}
        for finding in project["findings"]:
            links = rows[finding["fingerprint"]]["links"]
            assert [key for key, _ in links] == [i["key"] for i in finding["issues"]]
            for key, href in links:
                assert key in keys and href == f"{site.url}/browse/{key}"
            assert rows[finding["fingerprint"]]["evidence"]
        findings_seen += len(rows)
    assert charts_seen and findings_seen  # the generated site has something to show
    assert any(p["versions"] for p in data["projects"])
    assert any(p["sprints"] for p in data["projects"])
    assert any(p["budgets"] for p in data["projects"])
    for visit in pages:
        assert visit.facts["scripts"] == 0
        assert visit.errors == []
        assert all(url.startswith(index.parent.as_uri()) for url in visit.requests), \
            visit.requests
