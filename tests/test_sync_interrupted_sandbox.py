"""Interrupted first syncs and issues vanishing mid-sync, against the sandbox over real HTTP."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from test_sync_sandbox import (
    ISSUES,
    assert_store_equals_sandbox,
    cli_env,
    client_for,
    settings_for,
    write_config,
)

from jira_pm.cli import main
from jira_pm.jira.search import PendingPage
from jira_pm.sandbox import Sandbox
from jira_pm.store import connect
from jira_pm.store.issues import load_site
from jira_pm.sync import sync

pytestmark = pytest.mark.integration


@pytest.fixture(params=["cloud", "server"])
def site(request):
    with Sandbox(flavor=request.param, issues=ISSUES, seed=5, max_results_cap=100) as running:
        yield running


def kill_first_sync(site: Sandbox, store, pages: int = 2) -> None:
    """A first full sync into ``store`` that dies (KeyboardInterrupt) after ``pages`` pages."""
    settings = settings_for(site, store)
    client = client_for(settings)
    search = client.search

    def dying_search(*args, **kwargs):
        for number, page in enumerate(search(*args, **kwargs)):
            if number == pages:
                raise KeyboardInterrupt("killed")
            yield page

    client.search = dying_search
    conn = connect(store)
    try:
        with pytest.raises(KeyboardInterrupt):
            sync(settings, conn, client)
        assert 0 < len(load_site(conn).issues) < ISSUES
    finally:
        conn.close()


def test_a_resumed_first_sync_reports_the_sites_issue_count(site, store_path):
    """Killed mid first sync and resumed, the summary counts every issue of the site once."""
    store = store_path
    kill_first_sync(site, store)
    settings = settings_for(site, store)
    result = sync(settings, connect(store), client_for(settings))
    assert result.resumed
    assert result.summary().startswith(f"full sync: {ISSUES} issues"), result.summary()
    assert_store_equals_sandbox(connect(store), site)


def test_commands_that_read_the_store_exit_2_until_the_first_sync_completes(site, tmp_path,
                                                                           store_path):
    """audit, audit --as-of, apply and apply --dry-run refuse a half-synced store until sync."""
    config = write_config(site, tmp_path, store_path)
    kill_first_sync(site, store_path)
    runner = CliRunner()
    for args in (["audit"], ["audit", "--as-of", "2026-01-01"], ["apply", "--dry-run"],
                 ["apply"]):
        refused = runner.invoke(main, ["--config", str(config), *args], env=cli_env(site))
        assert refused.exit_code == 2, (args, refused.output)
        assert "first full sync was interrupted" in refused.stderr, args
        assert "run `jira-pm sync` to resume it" in refused.stderr, args
        assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    synced = runner.invoke(main, ["--config", str(config), "sync"], env=cli_env(site))
    assert synced.exit_code == 0, synced.output
    assert f"full sync: {ISSUES} issues" in synced.output
    audited = runner.invoke(main, ["--config", str(config), "audit", "--format", "json"],
                            env=cli_env(site))
    assert audited.exit_code == 0, audited.output


@pytest.fixture(params=["cloud", "server"])
def plain_site(request):
    with Sandbox(flavor=request.param, issues=ISSUES, seed=5) as running:
        yield running


def test_an_issue_deleted_before_its_worklog_follow_up_is_skipped(plain_site, store_path):
    """Deleted after its search page but before GET /worklog: exit 0, skipped, the rest saved."""
    site = plain_site
    # The last issue, given more worklogs than search returns: offset pages (DC startAt,
    # the sandbox's Cloud tokens) shift when an issue is deleted mid-search, so a later
    # page would miss an issue; on the last page there is no later page.
    victim = max(site.state.issues)
    for _ in range(21):
        site.add_worklog(victim, spent="1h")
    settings = settings_for(site, store_path)
    client = client_for(settings)
    search = client.search

    def search_then_delete(jql, fields, *args, **kwargs):
        for page in search(jql, fields, *args, **kwargs):
            # The issue pages only: a Cloud full sync's ids-only search comes first.
            raws = page.issues() if isinstance(page, PendingPage) else page
            if "worklog" in fields and any(int(raw["id"]) == victim for raw in raws):
                site.delete_issue(victim)
            yield page

    client.search = search_then_delete
    conn = connect(settings.store)
    result = sync(settings, conn, client)
    assert result.skipped == 1 and result.issues == len(site.state.issues)
    assert "1 issue skipped" in result.summary()
    assert victim not in load_site(conn).issues
    assert_store_equals_sandbox(conn, site)


def test_an_issue_deleted_before_its_changelog_bulkfetch_is_skipped_not_truncated(store_path):
    """Cloud: deleted before the bulkfetch, it is absent there: skipped and not left truncated."""
    with Sandbox(flavor="cloud", issues=ISSUES, seed=5) as site:
        victim = next(i for i in sorted(site.state.issues)
                      if len(site.state.issues[i].histories) > 40)
        settings = settings_for(site, store_path)
        client = client_for(settings)
        bulk = client.bulk_changelogs

        def delete_then_bulkfetch(ids):
            site.delete_issue(victim)
            return bulk(ids)

        client.bulk_changelogs = delete_then_bulkfetch
        conn = connect(settings.store)
        result = sync(settings, conn, client)
        assert result.skipped == 1 and result.issues == len(site.state.issues)
        assert victim not in load_site(conn).issues
        assert_store_equals_sandbox(conn, site)
