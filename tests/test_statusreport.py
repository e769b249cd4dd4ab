"""The status report's numbers (burn-up replayed from the changelog) and its CLI commands."""

from __future__ import annotations

import json
from datetime import timedelta

from click.testing import CliRunner
from test_audit import config_for, workdir  # noqa: F401  (the fixture)

from jira_pm.calendar import WorkingCalendar
from jira_pm.checks.context import CheckContext, SiteIndex
from jira_pm.checks.history import FieldIds
from jira_pm.checks.scope import estimate_timeline, membership_timeline
from jira_pm.checks.testing import at, change, day, issue, site
from jira_pm.cli import main
from jira_pm.model import CATEGORY_DONE, Version
from jira_pm.statusreport import series

CAL = WorkingCalendar()


def _ctx(the_site, as_of):
    return CheckContext(site=the_site, calendar=CAL, as_of=at(as_of), params={},
                        index=SiteIndex(the_site, FieldIds()))


def constructed_site():
    """Version 50 from Mon 2026-03-02: one issue resolved, one added and re-estimated, one
    removed, one created into it, and a sub-task (never counted)."""
    done = dict(status="Done", status_category=CATEGORY_DONE, resolution="Done")
    return site(
        issue(1, created="2026-02-20", fix_version_ids=(50,), story_points=3,
              resolved_at=at("2026-03-04T15:00"), **done),
        issue(2, created="2026-02-20", fix_version_ids=(50,), story_points=5, changes=[
            change(2, "2026-03-03T10:00", "Fix Version", None, "50"),
            change(2, "2026-03-05T09:00", "Story Points", "2", "5")]),
        issue(3, created="2026-02-20", story_points=8, changes=[
            change(3, "2026-03-04T12:00", "Fix Version", "50", None)]),
        issue(4, created="2026-03-05T10:00", fix_version_ids=(50,), story_points=1),
        issue(5, created="2026-02-20", fix_version_ids=(50,), is_subtask=True, parent_id=1,
              story_points=13),
        versions=[Version(50, "ABC", "2.0", day("2026-03-02"), day("2026-03-20"), False,
                          False)],
    )


def test_burn_up_equals_the_changelog_replayed_at_each_days_end():
    """Total and completed points per day are what the changelog gives at each day's end."""
    the_site = constructed_site()
    ctx = _ctx(the_site, "2026-03-06T18:00")
    burn = series.burn_up(ctx, the_site.versions[50], day("2026-03-06"))
    assert burn.unit == "points"
    assert burn.days == [day("2026-03-02") + timedelta(n) for n in range(5)]
    # Worked by hand: 1 (3) and 3 (8); 2 joins at 2 points; 3 leaves and 1 is done;
    # 2 grows to 5 and 4 (1) is created into the version.
    assert burn.total == [11, 13, 5, 9, 9]
    assert burn.done == [0, 0, 3, 3, 3]
    # And the same from a plain replay of every issue at every day's end.
    for n, when in enumerate(burn.days):
        end = CAL.end_of_day(when)
        total = done = 0.0
        for item in the_site.issues.values():
            if item.is_subtask:
                continue
            members = membership_timeline(ctx, item, "version").value_at(end, frozenset())
            if members and 50 in members:
                size = estimate_timeline(ctx, item, "points").value_at(end) or 0
                total += size
                done += size if item.resolved_at and item.resolved_at <= end else 0
        assert (burn.total[n], burn.done[n]) == (total, done)


def test_burn_up_counts_issues_where_no_points_are_used():
    """Without story points the burn-up counts issues."""
    the_site = site(issue(1, created="2026-02-20", fix_version_ids=(50,)),
                    versions=[Version(50, "ABC", "2.0", day("2026-03-02"), None, False, False)])
    burn = series.burn_up(_ctx(the_site, "2026-03-03T12:00"), the_site.versions[50],
                          day("2026-03-03"))
    assert (burn.unit, burn.total, burn.done) == ("issues", [1, 1], [0, 0])


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_report_of_a_never_synced_store_exits_2(tmp_path, store_path, monkeypatch):
    """`report` on a store that was never synced exits 2 like `audit`, and writes nothing."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("JIRA_PM_CONFIG", raising=False)
    (tmp_path / "jira-pm.toml").write_text(config_for(store_path), encoding="utf-8")
    result = CliRunner().invoke(main, ["report", "--out", "out"])
    assert result.exit_code == 2 and "never been synced" in result.output
    assert not (tmp_path / "out").exists() and not store_path.exists()
    assert CliRunner().invoke(main, ["explain", "ABC-1"]).exit_code == 2


def test_report_writes_pages_and_json_with_jira_links(workdir):  # noqa: F811
    """`report` writes the portfolio, a page per project and report.json with the findings."""
    result = run("report", "--out", "out", "--as-of", "2026-04-13")
    assert result.exit_code == 0, result.output
    out = workdir / "out"
    data = json.loads((out / "report.json").read_text())
    assert [p["key"] for p in data["projects"]] == ["ABC", "OPS"]
    abc = data["projects"][0]
    assert abc["health"]["schedule"]["status"] == "red"
    assert [v["name"] for v in abc["versions"]] == ["2.0"]
    page = (out / "project-ABC.html").read_text()
    assert 'href="https://example.atlassian.net/browse/ABC-1"' in page
    assert "<script" not in page and "http-equiv=\"Content-Security-Policy\"" in page
    assert (out / "index.html").exists() and (out / "project-OPS.html").exists()


def test_report_details_say_what_the_jira_comment_says(workdir):  # noqa: F811
    """A finding's details in the report are its comment's sentences about its subject."""
    assert run("report", "--out", "out", "--as-of", "2026-04-13").exit_code == 0
    data = json.loads((workdir / "out" / "report.json").read_text())
    shown = [f["evidence"] for p in data["projects"] for f in p["findings"]
             if f["rule_id"] == "BU004"]
    assert shown and shown == _comment_sentences(workdir)
    page = (workdir / "out" / "project-ABC.html").read_text()
    assert f"<p>{shown[0][0]}</p>" in page.replace("&#39;", "'")


def test_explain_prints_the_findings_of_one_issue_in_words(workdir):  # noqa: F811
    """`explain KEY` lists each open finding touching the issue with its evidence."""
    result = run("explain", "ABC-3", "--as-of", "2026-04-13")
    assert result.exit_code == 0, result.output
    assert "BU004" in result.output
    assert "jira-pm has written no label or comment on it." in result.output
    missing = CliRunner().invoke(main, ["explain", "ABC-99"])
    assert missing.exit_code == 2 and "no issue ABC-99" in missing.output


def _comment_sentences(workdir, key=None, rule_id="BU004"):  # noqa: F811
    """The sentences the comment builder gives for the rule's open finding in the store."""
    from jira_pm.calendar import calendar_from_settings
    from jira_pm.config import load_settings
    from jira_pm.engine import evaluate
    from jira_pm.rulepack import load_pack
    from jira_pm.statusreport.lookups import site_lookups
    from jira_pm.store import connect
    from jira_pm.store.site import load_site
    from jira_pm.writeback.comments import finding_sentences

    settings = load_settings(workdir / "jira-pm.toml")
    conn = connect(settings.store, readonly=True)
    the_site = load_site(conn)
    conn.close()
    cal = calendar_from_settings(settings, years=range(2023, 2029))
    as_of = cal.parse_as_of("2026-04-13")
    found = [f for f in evaluate(the_site, load_pack(settings), settings, as_of, calendar=cal)
             if f.rule_id == rule_id and (key is None or f.subject_name == key)]
    lookups = site_lookups(the_site, settings, cal.zone)
    return [finding_sentences(f, lookups, key, settings.writeback.exempt_label) for f in found]


def test_explain_says_what_the_jira_comment_says(workdir):  # noqa: F811
    """`explain KEY` shows each finding in the sentences of its Jira comment on that issue."""
    result = run("explain", "ABC-3", "--as-of", "2026-04-13")
    assert result.exit_code == 0, result.output
    (sentences,) = _comment_sentences(workdir, "ABC-3")
    assert sentences[-1].endswith("to exempt this issue.")  # spoken to this issue
    printed = [line.strip() for line in result.output.splitlines()]
    start = printed.index(sentences[0])
    assert printed[start:start + len(sentences)] == sentences


def test_run_with_report_regenerates_the_report_after_the_run(tmp_path, store_path):
    """`run --report DIR` writes the status report once the run is done and names it."""
    from test_run_cli import configured, invoke

    with configured(tmp_path, store_path) as (_, config):
        result = invoke(config, "run", "--dry-run", "--report", str(tmp_path / "site"))
        assert result.exit_code == 0, result.output
        assert f"report: {tmp_path / 'site' / 'index.html'}" in result.output
        data = json.loads((tmp_path / "site" / "report.json").read_text())
        assert [p["key"] for p in data["projects"]] == ["ABC"]


def test_findings_trend_counts_what_is_open_at_each_recorded_moment():
    """The trend's count at each run is the findings first seen by then and not yet resolved."""
    import random

    from jira_pm.statusreport.data import open_trend

    rnd = random.Random(5)
    start = at("2026-03-01T00:00")
    runs = [start + timedelta(hours=6 * n) for n in range(60)]
    rows = []
    for _ in range(80):
        first, last = sorted(rnd.sample(runs, 2))
        gone = rnd.choice([None, last, rnd.choice(runs)])  # some resolved before first seen
        rows.append({"first_seen": first.isoformat(), "last_seen": last.isoformat(),
                     "resolved_at": gone.isoformat() if gone else None})
    since, until = runs[10], runs[50]
    trend = open_trend(rows, since, until)
    moments = sorted({m for r in rows for m in (r["first_seen"], r["last_seen"],
                                                 r["resolved_at"]) if m})
    expected = []
    for text in moments:
        moment = at(text[:16])
        if since <= moment <= until:
            expected.append(sum(1 for r in rows if at(r["first_seen"][:16]) <= moment and (
                r["resolved_at"] is None or at(r["resolved_at"][:16]) > moment)))
    assert [p["open"] for p in trend] == expected and len(expected) > 20


def test_burn_up_chart_is_plain_svg_that_steps_at_each_change():
    """A burn-up chart is one inline <svg> (no script, escaped text), the same for the same
    data, with a corner only where the total changes."""
    from jira_pm.statusreport import charts

    version = {"name": "2.0 <beta>", "unit": "points", "release_date": "2026-03-20",
               "days": ["2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05"],
               "total": [5.0, 5.0, 8.0, 8.0], "done": [0.0, 0.0, 3.0, 3.0],
               "forecast": {"50": "2026-03-10", "85": "2026-03-12", "95": "2026-03-16"}}
    svg = charts.burn_up(version)
    assert svg.startswith("<svg") and svg.endswith("</svg>") and svg == charts.burn_up(version)
    assert "<script" not in svg and "2.0 &lt;beta&gt;" in svg and "total scope (points)" in svg
    total_path = svg.split('stroke="#5b6b7f" stroke-width="1.5"')[0].rsplit('d="', 1)[1]
    assert total_path.count(" L") == 3  # start, step up, step end, the last day's end


def test_report_reads_the_store_part_by_part_and_shows_what_one_part_shows(store_path,
                                                                            monkeypatch):
    """The report loads one group of unlinked projects at a time, with the same data as one part."""
    from test_site_parts import AS_OF, generated_store

    import jira_pm.store.site as site_module
    from jira_pm.statusreport.data import build_report

    conn, settings = generated_store(store_path)
    whole = build_report(conn, settings, as_of=AS_OF, max_issues=10_000)
    loads = []
    real_load = site_module.load_site
    monkeypatch.setattr(site_module, "load_site", lambda c, **kw: loads.append(
        sorted(kw.get("projects") or ())) or real_load(c, **kw))
    parted = build_report(conn, settings, as_of=AS_OF, max_issues=1)
    assert sorted(loads) == [["A", "B"], ["C", "D"], ["E", "F"], ["G"]]
    assert sum(len(p["findings"]) for p in whole["projects"]) > 0
    assert sum(len(p["versions"]) + len(p["sprints"]) + len(p["budgets"])
               for p in whole["projects"]) > 0
    assert parted == whole


def test_packed_series_give_back_exactly_the_numbers_and_days_packed():
    """A project's series kept packed while sites load unpack to exactly what was packed."""
    from jira_pm.statusreport.data import pack_series, unpack_series

    days = [f"2026-03-{n:02d}" for n in range(1, 31)] * 10
    value = {"versions": [{"id": 50, "name": "2.0", "days": days, "total": [0.1 + 0.2] * 300,
                           "done": [-0.0, 1e-17, 3.0, 7] * 75, "forecast": {"85": None}}],
             "sprints": [], "budgets": []}
    packed = pack_series(value)
    back = unpack_series(packed)
    assert back == value
    assert repr(back) == repr(value)  # -0.0 stays -0.0, ints stay ints
    assert len(packed) < len(json.dumps(value)) / 10  # the point: far smaller than the lists


def test_building_the_report_data_imports_no_http_stack(tmp_path):
    """The report's data module brings no HTTP modules into memory while a site is loaded."""
    import subprocess
    import sys

    code = ("import sys, jira_pm.statusreport.data, jira_pm.statusreport.lookups; "
            "print(sorted(m for m in ('requests', 'urllib3', 'jira_pm.writeback.comments') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=tmp_path).stdout
    assert out.strip() == "[]"
