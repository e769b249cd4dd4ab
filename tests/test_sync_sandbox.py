"""Sync against the sandbox over real HTTP, both flavours: completeness, increments, faults, CLI."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from pg_support import store_section, store_text

from jira_pm.cli import main
from jira_pm.config import Settings
from jira_pm.jira.client import JiraClient
from jira_pm.sandbox import Sandbox
from jira_pm.store import connect
from jira_pm.store.issues import load_site
from jira_pm.sync import sync

pytestmark = pytest.mark.integration

ISSUES = 520  # two projects, two issues with > 40 histories and > 20 worklogs


def jira_section(site: Sandbox) -> dict:
    credentials = site.credentials("admin")
    if site.flavor == "cloud":
        return {"email": credentials["email"], "api_token": credentials["api_token"]}
    return {"pat": credentials["pat"]}


def settings_for(site: Sandbox, store: Path, **sections) -> Settings:
    jira = {**jira_section(site), "max_parallel": 4, **sections.pop("jira", {})}
    return Settings.for_tests(
        url=site.url, projects=tuple(sorted(site.state.projects)), store_path=store,
        jira=jira, sync={"overlap_minutes": 5, "reconcile_every_hours": 0}, **sections,
    )


def client_for(settings: Settings) -> JiraClient:
    # Retries wait for real but briefly: the sandbox's Retry-After is short.
    return JiraClient.from_settings(settings.jira, backoff_base=0.01, backoff_cap=0.05)


def assert_store_equals_sandbox(conn, site: Sandbox) -> None:
    """Every issue, changelog item and worklog the sandbox holds is in the store, and no more."""
    stored = load_site(conn)
    with site.state.lock:
        truth = {issue_id: (issue.key, issue) for issue_id, issue in site.state.issues.items()}
    assert set(stored.issues) == set(truth)
    keys = {issue_id: key for issue_id, (key, _) in truth.items()}
    for issue_id, (key, real) in truth.items():
        rendered = site.issue_json(issue_id)
        issue = stored.issues[issue_id]
        assert issue.key == key
        assert issue.story_points == real.points, key
        assert issue.labels == tuple(real.labels), key
        assert set(issue.fix_version_ids) == set(real.fix_versions), key
        assert set(issue.sprint_ids) == set(real.sprints), key
        assert issue.original_estimate_seconds == real.original, key
        assert issue.is_subtask == bool(real.type.subtask), key
        epic_key = keys.get(real.epic_id) if real.epic_id else None
        assert issue.epic_key == epic_key, key
        if real.parent_id is not None or site.flavor == "cloud":
            expected_parent = real.parent_id or (real.epic_id if site.flavor == "cloud" else None)
            assert issue.parent_id == expected_parent, key
        histories = rendered["changelog"]["histories"]
        expected = sorted((int(h["id"]), i) for h in histories for i in range(len(h["items"])))
        assert sorted((c.history_id, c.item_index) for c in issue.changes) == expected, key
        worklogs = site.worklogs(issue_id)
        assert sorted(w.id for w in issue.worklogs) == sorted(int(w["id"]) for w in worklogs), key
        assert sum(w.seconds for w in issue.worklogs) == sum(
            int(w["timeSpentSeconds"]) for w in worklogs
        )
    with site.state.lock:
        live_sprints = {s.id: s.state for s in site.state.sprints.values()}
    for sprint_id, sprint in stored.sprints.items():
        assert sprint.state == str(live_sprints[sprint_id]).lower()


@pytest.fixture(params=["cloud", "server"])
def site(request):
    with Sandbox(flavor=request.param, issues=ISSUES, seed=5) as running:
        yield running


def test_a_full_sync_stores_everything_the_sandbox_holds(site, store_path):
    """A full sync stores every issue, changelog item and worklog, truncated ones included."""
    settings = settings_for(site, store_path)
    conn = connect(settings.store)
    result = sync(settings, conn, client_for(settings))
    assert result.issues == ISSUES
    assert result.worklogs_completed >= 2
    # Cloud search truncates changelogs (bulkfetch completes them); DC's expand gives them whole.
    assert result.changelogs_completed >= (2 if site.flavor == "cloud" else 0)
    assert_store_equals_sandbox(conn, site)
    assert len(load_site(conn).versions) == sum(
        1 for v in site.state.versions.values() if v.project_key in site.state.projects
    )
    routes = site.stats()["by_route"]
    assert not any(route.endswith(("/rest/api/3/search", "/rest/api/2/search"))
                   for route in routes if site.flavor == "cloud")
    # deployment = "auto": the one serverInfo the site facts need also tells the client.
    assert routes["GET /rest/api/2/serverInfo"] == 1


def test_search_pages_are_decoded_by_the_thread_that_saves_them(site, store_path, monkeypatch):
    """The search threads only fetch: each page's JSON is read where it is mapped and saved."""
    import threading

    from jira_pm.jira import http

    decoded_by: list[str] = []
    decode = http.Undecoded.decode

    def noting_decode(answer):
        decoded_by.append(threading.current_thread().name)
        return decode(answer)

    monkeypatch.setattr(http.Undecoded, "decode", noting_decode)
    settings = settings_for(site, store_path, jira={"max_parallel": 4})
    result = sync(settings, connect(settings.store), client_for(settings))
    assert result.pages >= 1
    assert decoded_by == [threading.current_thread().name] * result.pages


def test_incremental_syncs_send_little_and_fetch_only_what_changed(site, store_path):
    """No change costs at most 2 requests per project; 10 changed issues are fetched and stored."""
    settings = settings_for(site, store_path)
    conn = connect(settings.store)
    client = client_for(settings)
    sync(settings, conn, client)
    site.reset_stats()
    quiet = sync(settings, conn, client)
    assert quiet.issues == 0
    assert site.stats()["total"] <= 2 * len(site.state.projects)
    changed = sorted(site.state.issues)[::50][:10]
    for number, issue_id in enumerate(changed):
        site.update_issue(issue_id, labels=[f"changed-{number}"])
    site.add_worklog(changed[0], spent="2h")
    site.reset_stats()
    result = sync(settings, conn, client)
    assert len(changed) <= result.issues <= len(changed) + 5
    assert site.stats()["total"] <= 2 * len(site.state.projects) + 3
    assert_store_equals_sandbox(conn, site)
    assert load_site(conn).issues[changed[3]].labels == ("changed-3",)


def test_reconcile_reflects_deleted_and_moved_issues(site, store_path):
    """After --reconcile a deleted issue is gone and a moved one has its new key, same id."""
    settings = settings_for(site, store_path)
    conn = connect(settings.store)
    client = client_for(settings)
    sync(settings, conn, client)
    ids = sorted(site.state.issues)
    site.delete_issue(ids[3])
    other = sorted(site.state.projects)[-1]
    new_key = site.move_issue(ids[4], other)
    result = sync(settings, conn, client, reconcile=True)
    assert result.reconciled and result.deleted == 1
    assert load_site(conn).issues[ids[4]].key == new_key
    assert_store_equals_sandbox(conn, site)


@pytest.mark.parametrize("retry_after", ["seconds", "http-date"])
def test_rate_limits_server_errors_and_dropped_connections_are_survived(store_path, retry_after):
    """429 bursts (either Retry-After form), 500s and dropped connections still give exact data."""
    with Sandbox(flavor="cloud", issues=260, seed=9, rate_limit=4, error_rate=0.2,
                 drop_rate=0.1, retry_after=retry_after) as faulty:
        settings = settings_for(faulty, store_path)
        conn = connect(settings.store)
        sync(settings, conn, client_for(settings))
        statuses = faulty.stats()["by_status"]
        assert statuses.get("429", 0) > 0
        assert sum(n for status, n in statuses.items() if status.startswith("5")) > 0
        faulty.set_faults(rate_limit=None, error_rate=0.0, drop_rate=0.0)
        assert_store_equals_sandbox(conn, faulty)


def test_the_api_token_never_reaches_the_store(store_path):
    """Neither the store (a SQLite file's bytes, a PostgreSQL store's rows) nor the raw column
    contains the API token or its basic-auth form."""
    import base64

    with Sandbox(flavor="cloud", issues=120, seed=2) as running:
        settings = settings_for(running, store_path)
        conn = connect(settings.store)
        sync(settings, conn, client_for(settings))
        token = running.credentials("admin")["api_token"]
        raws = " ".join(row[0] for row in conn.execute("SELECT raw FROM issues"))
        conn.close()
    basic = base64.b64encode(f"{settings.jira.email}:{token}".encode()).decode()
    assert token not in raws
    held = store_text(store_path)
    assert token not in held and basic not in held


# ---------------------------------------------------------------- through the CLI


def write_config(site: Sandbox, folder: Path, store, jql: str | None = None) -> Path:
    lines = [
        "[jira]", f'url = "{site.url}"', "max_parallel = 4", "max_retry_seconds = 20",
        "[scope]", "projects = [" + ", ".join(f'"{k}"' for k in sorted(site.state.projects)) + "]",
    ]
    if jql:
        lines.append(f"jql = '{jql}'")
    path = folder / "jira-pm.toml"
    path.write_text("\n".join(lines) + "\n" + store_section(store), encoding="utf-8")
    return path


def cli_env(site: Sandbox, **overrides) -> dict:
    credentials = site.credentials("admin")
    env = {"JIRA_EMAIL": credentials["email"], "JIRA_API_TOKEN": credentials["api_token"],
           "JIRA_PAT": credentials["pat"]}
    if site.flavor == "cloud":
        env.pop("JIRA_PAT")
    env.update(overrides)
    return env


def test_wrong_credentials_exit_3_with_a_clear_message(tmp_path, store_path):
    """A 401 from Jira makes `jira-pm sync` exit 3 with one line about authentication."""
    with Sandbox(flavor="cloud", issues=20, seed=1) as running:
        config = write_config(running, tmp_path, store_path)
        result = CliRunner().invoke(
            main, ["--config", str(config), "sync"],
            env=cli_env(running, JIRA_API_TOKEN="wrong-token"),
        )
    assert result.exit_code == 3, result.output
    assert "Jira refused the credentials for " in result.output
    assert "(401: Client must be authenticated to access this resource.)" in result.output
    assert "wrong-token" not in result.output


def test_a_bad_jql_in_the_config_exits_2_showing_jiras_message(tmp_path, store_path):
    """An unsupported JQL filter exits 2 and shows the message Jira sent."""
    with Sandbox(flavor="server", issues=20, seed=1) as running:
        config = write_config(running, tmp_path, store_path, jql="summary ~~ broken")
        result = CliRunner().invoke(main, ["--config", str(config), "sync"],
                                    env=cli_env(running))
    assert result.exit_code == 2, result.output
    assert "Jira rejected the sync query" in result.output
    assert "(400: The Jira sandbox does not support 'summary' in a condition" in result.output


def _search_requests(site: Sandbox) -> int:
    routes = site.stats()["by_route"]
    return sum(n for route, n in routes.items() if "search" in route and "approximate" not in route)


@pytest.mark.slow
@pytest.mark.parametrize("flavor", ["cloud", "server"])
def test_a_sync_killed_with_sigkill_and_rerun_ends_with_exactly_the_sandbox_data(
        tmp_path, store_path, flavor):
    """SIGKILL after N search pages at several points, then a rerun: store equals sandbox."""
    # 2,400 Cloud issues make a full sync page two id ranges concurrently (see Syncer).
    issues = 2400 if flavor == "cloud" else 1500
    with Sandbox(flavor=flavor, issues=issues, seed=4, latency_ms=15,
                 max_results_cap=100) as running:
        config = write_config(running, tmp_path, store_path)
        env = {**os.environ, **cli_env(running)}
        command = [str(Path(sys.executable).with_name("jira-pm")), "--config", str(config), "sync"]
        # Each rerun resumes where the last one died, so these are different points.
        for kill_after_pages in (2, 3, 4):
            running.reset_stats()
            process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 60
            try:
                while _search_requests(running) < kill_after_pages and process.poll() is None:
                    assert time.monotonic() < deadline, "the sync never reached that page"
                    time.sleep(0.005)
            finally:
                if process.poll() is None:
                    os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
            assert process.returncode == -signal.SIGKILL, "the sync ended before the kill"
            # Change the site between runs, as Jira would change while jira-pm is down.
            some = sorted(running.state.issues)[kill_after_pages * 37]
            running.update_issue(some, labels=[f"between-{kill_after_pages}"])
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        conn = connect(store_path)
        assert_store_equals_sandbox(conn, running)


def test_sync_then_status_through_the_cli(tmp_path, store_path):
    """`jira-pm sync` prints its summary and exits 0; `jira-pm status` then shows the counts."""
    with Sandbox(flavor="server", issues=450, seed=3) as running:
        config = write_config(running, tmp_path, store_path)
        runner = CliRunner()
        synced = runner.invoke(main, ["--config", str(config), "sync"], env=cli_env(running))
        assert synced.exit_code == 0, synced.output
        assert "full sync: 450 issues" in synced.output
        status = runner.invoke(main, ["--config", str(config), "status"], env=cli_env(running))
        counts = {key: sum(1 for i in running.state.issues.values() if i.project_key == key)
                  for key in running.state.projects}
    assert status.exit_code == 0, status.output
    assert "(Server)" in status.output and "issues: 450" in status.output
    for key, count in counts.items():
        assert f"  {key}: {count}" in status.output
