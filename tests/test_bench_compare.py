"""bench/compare.py and its baseline runners: their counting and saving logic on a tiny sandbox."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from jira_pm.sandbox import Sandbox

BENCH = Path(__file__).resolve().parent.parent / "bench"
VENV_JIRA = BENCH / "out" / "venv-jira" / "bin" / "python"
VENV_TAP = BENCH / "out" / "venv-tap-jira" / "bin" / "python"
ADMIN = ("pm-bot@example.com", "sandbox-token-admin")

pytestmark = pytest.mark.integration


def _load(name: str, path: Path):
    """A bench script as a module (bench/ is on sys.path while it imports its siblings)."""
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCH))
    return module


jira_package = _load("bench_baseline_jira_package", BENCH / "baselines" / "jira_package.py")
singer_tap = _load("bench_baseline_singer_tap", BENCH / "baselines" / "singer_tap.py")
compare = _load("bench_compare", BENCH / "compare.py")
tls = _load("bench_tls", BENCH / "tls.py")


@pytest.fixture(scope="module")
def site():
    # 300 generated issues hold at least one changelog longer than Cloud search's 40.
    with Sandbox(flavor="cloud", issues=300, seed=11) as running:
        yield running


def _truth(site: Sandbox) -> dict:
    """compare.truth's counts that the baselines' stores report."""
    counts = compare.truth(site)
    return {key: counts[key] for key in ("issues", "changelog_items", "worklogs")}


def _search_all(site: Sandbox) -> list[dict]:
    """What enhanced_search_issues(maxResults=False, expand="changelog") pages through."""
    issues, token = [], None
    while True:
        params = {"jql": "id > 0", "fields": "*all",
                  "expand": "changelog", "maxResults": 100}
        if token:
            params["nextPageToken"] = token
        page = requests.get(f"{site.url}/rest/api/2/search/jql", params=params, auth=ADMIN,
                            timeout=30).json()
        issues += page["issues"]
        token = page.get("nextPageToken")
        if not token:
            return issues


def test_jira_package_store_loses_exactly_the_histories_search_truncates(site, tmp_path):
    """The hand-written script's store has every issue and worklog, only the 40 newest histories."""
    conn = jira_package.open_store(str(tmp_path / "j.sqlite"))
    for raw in _search_all(site):
        jira_package.save_issue(conn, raw)
        worklogs = requests.get(f"{site.url}/rest/api/2/issue/{raw['id']}/worklog", auth=ADMIN,
                                timeout=30).json()["worklogs"]
        jira_package.save_worklogs(conn, int(raw["id"]), worklogs)
    truth = _truth(site)
    dropped = sum(len(h.items) for i in site.state.issues.values() for h in i.histories[:-40])
    assert dropped > 0
    assert jira_package.counts(conn) == {**truth,
                                         "changelog_items": truth["changelog_items"] - dropped}


def test_jira_package_save_issue_replaces_an_issue_seen_twice(tmp_path):
    """Saving the same issue again replaces its row and changelog instead of doubling them."""
    conn = jira_package.open_store(str(tmp_path / "j.sqlite"))
    raw = {"id": "7", "key": "A-7", "fields": {"updated": "2026-11-20T10:00:00.000+0000"},
           "changelog": {"histories": [{"id": "1", "created": "2026-11-19T10:00:00.000+0000",
                                        "items": [{"field": "status", "toString": "Done"},
                                                  {"field": "resolution", "toString": "Done"}]}]}}
    jira_package.save_issue(conn, raw)
    jira_package.save_issue(conn, raw)
    assert jira_package.counts(conn) == {"issues": 1, "changelog_items": 2, "worklogs": 0}


def _record(stream: str, record: dict) -> str:
    return json.dumps({"type": "RECORD", "stream": stream, "record": record})


def test_singer_counts_distinct_records_across_runs():
    """count_records counts each issue, history's items and worklog once, however often emitted."""
    first = [json.dumps({"type": "SCHEMA", "stream": "issues", "schema": {}}),
             _record("issues", {"id": "1"}), _record("issues", {"id": "2"}),
             _record("changelogs", {"id": "10", "items": [{}, {}]}),
             _record("worklogs", {"id": "5"}),
             json.dumps({"type": "STATE", "value": {"bookmarks": {"issues": {"updated": "a"}}}})]
    second = [_record("issues", {"id": "2"}),
              _record("changelogs", {"id": "10", "items": [{}, {}]}),
              _record("changelogs", {"id": "11", "items": [{}]}), _record("worklogs", {"id": "6"}),
              json.dumps({"type": "STATE", "value": {"bookmarks": {"issues": {"updated": "b"}}}})]
    assert singer_tap.count_records(first + second) == {"issues": 2, "changelog_items": 3,
                                                        "worklogs": 2}
    assert singer_tap.last_state(first + second) == {"bookmarks": {"issues": {"updated": "b"}}}


def test_singer_catalog_selects_only_the_compared_streams():
    """select_streams marks issues, changelogs and worklogs selected and every other stream not."""
    catalog = {"streams": [{"tap_stream_id": name, "metadata": [
        {"breadcrumb": [], "metadata": {"selected": True}},
        {"breadcrumb": ["properties", "id"], "metadata": {"inclusion": "automatic"}}]}
        for name in ("projects", "issues", "changelogs", "worklogs", "users")]}
    chosen = singer_tap.select_streams(catalog)
    selected = {s["tap_stream_id"]: s["metadata"][0]["metadata"]["selected"]
                for s in chosen["streams"]}
    assert selected == {"projects": False, "issues": True, "changelogs": True, "worklogs": True,
                        "users": False}


def test_compare_counts_only_real_writes():
    """writes_sent counts PUT/DELETE and writing POSTs, not the POSTs that only read."""
    stats = {"by_route": {"POST /rest/api/3/search/jql": 4,
                          "POST /rest/api/3/changelog/bulkfetch": 2,
                          "POST /rest/api/3/worklog/list": 1,
                          "PUT /rest/api/3/issue/{idOrKey}": 5,
                          "POST /rest/api/3/issue/{idOrKey}/comment": 3,
                          "DELETE /rest/api/3/issue/{idOrKey}/comment/{id}": 1,
                          "GET /rest/api/3/myself": 9}}
    assert compare.writes_sent(stats) == 9
    assert compare.verdict({"issues": 3, "changelog_items": 5, "worklogs": 1},
                           {"issues": 3, "changelog_items": 7, "worklogs": 1}) == (
        "issues 3 ✓; changelog items 5 / 7 (**-2**); worklogs 1 ✓")


# ---- the real baselines, when compare.py has created their virtualenvs ----------------------

@pytest.fixture(scope="module")
def tls_site(tmp_path_factory):
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command-line tool is not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = tls.make_certificate(folder)
    with Sandbox(flavor="cloud", issues=40, seed=3, tls=(cert, key)) as running:
        yield running, cert, folder


@pytest.mark.skipif(not VENV_JIRA.exists(),
                    reason="bench/out/venv-jira is absent (bench/compare.py creates it)")
def test_jira_package_script_in_its_venv_saves_the_site(tls_site):
    """The `jira` package script, run in its own venv over TLS, saves every issue and worklog."""
    site, cert, folder = tls_site
    out = folder / "jira-package.sqlite"
    result = subprocess.run(
        [str(VENV_JIRA), str(BENCH / "baselines" / "jira_package.py"), "--url", site.url,
         "--email", ADMIN[0], "--token", ADMIN[1], "--jql", "id > 0", "--out", str(out)],
        env={**os.environ, "REQUESTS_CA_BUNDLE": str(cert)}, capture_output=True, text=True,
        timeout=120, check=True)
    counts = json.loads(result.stdout)
    truth = _truth(site)
    assert counts["issues"] == truth["issues"] and counts["worklogs"] == truth["worklogs"]
    saved = sqlite3.connect(out).execute("SELECT count(*) FROM issues").fetchone()[0]
    assert saved == truth["issues"]


@pytest.mark.skipif(not VENV_TAP.exists(),
                    reason="bench/out/venv-tap-jira is absent (bench/compare.py creates it)")
def test_tap_jira_in_its_venv_emits_every_issue_and_worklog(tls_site):
    """tap-jira 2.6.0, run in its own venv over TLS, emits every issue and worklog of the site."""
    site, cert, folder = tls_site
    env = {**os.environ, "REQUESTS_CA_BUNDLE": str(cert)}
    runner = str(BENCH / "baselines" / "singer_tap.py")
    config, catalog, records = (folder / "tap.json", folder / "catalog.json",
                                folder / "records.jsonl")
    config.write_text(json.dumps({"base_url": site.url, "username": ADMIN[0],
                                  "password": ADMIN[1], "user_agent": "test",
                                  "start_date": "2000-01-01T00:00:00Z"}), encoding="utf-8")
    for command in (["discover", "--config", str(config), "--out", str(catalog)],
                    ["run", "--config", str(config), "--catalog", str(catalog),
                     "--out", str(records)]):
        subprocess.run([str(VENV_TAP), runner, *command], env=env, capture_output=True,
                       timeout=120, check=True)
    counts = singer_tap.count_records(records.read_text(encoding="utf-8").splitlines())
    truth = _truth(site)
    assert counts["issues"] == truth["issues"] and counts["worklogs"] == truth["worklogs"]
