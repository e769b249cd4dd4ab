"""A store holds one scope: another scope's sync is refused before it can remove those issues."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from pg_support import store_section
from test_sync import FakeJira

from jira_pm.cli import main
from jira_pm.config import Settings
from jira_pm.errors import ConfigError
from jira_pm.store import connect, transaction
from jira_pm.store.sync_state import get_sync_state
from jira_pm.sync import scope_key, sync

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def scoped(store_path, *projects: str, jql: str | None = None) -> Settings:
    scope = {"jql": jql} if jql else {}
    return Settings.for_tests(projects=projects, store_path=store_path, scope=scope,
                              sync={"reconcile_every_hours": 0})


def two_project_jira() -> FakeJira:
    jira = FakeJira()
    for issue_id in range(10001, 10004):
        jira.add(issue_id, project="SHOP")
    for issue_id in range(20001, 20003):
        jira.add(issue_id, project="OPS")
    return jira


def stored_keys(conn) -> list[str]:
    return sorted(row[0] for row in conn.execute("SELECT key FROM issues"))


def test_another_scope_on_a_synced_store_is_refused_and_removes_nothing(store_path):
    """A config of another scope on the store stops with the fix before it removes any issue."""
    jira, conn = two_project_jira(), connect(store_path)
    sync(scoped(store_path, "SHOP"), conn, jira, now=lambda: NOW)
    with pytest.raises(ConfigError) as refused:
        sync(scoped(store_path, "OPS"), conn, jira, now=lambda: NOW)
    line = refused.value.one_line()
    assert "holds the issues of projects SHOP, not this config's projects OPS" in line
    assert "`jira-pm sync --new-scope`" in line
    assert stored_keys(conn) == ["SHOP-10001", "SHOP-10002", "SHOP-10003"]
    conn.close()


def test_a_widened_project_list_is_accepted(store_path):
    """Adding a project to [scope] projects keeps every stored issue in scope: no refusal."""
    jira, conn = two_project_jira(), connect(store_path)
    sync(scoped(store_path, "SHOP"), conn, jira, now=lambda: NOW)
    sync(scoped(store_path, "SHOP", "OPS"), conn, jira, now=lambda: NOW)
    assert len(stored_keys(conn)) == 5
    conn.close()


def test_a_changed_jql_is_refused_until_new_scope_replaces_it(store_path):
    """A changed JQL is another scope; --new-scope replaces the store's scope and its issues."""
    jira, conn = two_project_jira(), connect(store_path)
    sync(scoped(store_path, "SHOP", "OPS", jql="priority = High"), conn, jira, now=lambda: NOW)
    narrower = scoped(store_path, "OPS")
    with pytest.raises(ConfigError):
        sync(narrower, conn, jira, now=lambda: NOW)
    sync(narrower, conn, jira, now=lambda: NOW, new_scope=True)
    assert stored_keys(conn) == ["OPS-20001", "OPS-20002"]
    # the old scope's cursor is gone: going back to it is a full sync, not an incremental one
    old = scope_key(scoped(store_path, "SHOP", "OPS", jql="priority = High"))
    assert get_sync_state(conn, old).cursor is None
    sync(narrower, conn, jira, now=lambda: NOW)  # the new scope is the store's now
    conn.close()


def test_a_store_without_issues_is_claimed_by_any_scope(store_path):
    """A claim with nothing stored (a typo'd project found no issue) does not lock the store."""
    jira, conn = two_project_jira(), connect(store_path)
    sync(scoped(store_path, "SHPO"), conn, jira, now=lambda: NOW)
    sync(scoped(store_path, "SHOP"), conn, jira, now=lambda: NOW)
    assert len(stored_keys(conn)) == 3
    conn.close()


@pytest.mark.parametrize("command", [["sync"], ["audit"], ["apply", "--dry-run"], ["run"]])
def test_the_cli_exits_2_for_a_store_of_another_scope(tmp_path, store_path, command):
    """sync, audit, apply and run of another scope's store exit 2 with the fix."""
    jira, conn = two_project_jira(), connect(store_path)
    sync(scoped(store_path, "SHOP"), conn, jira, now=lambda: NOW)
    conn.close()
    config = tmp_path / "jira-pm.toml"
    config.write_text('[jira]\nurl = "https://jira.example.test"\n[scope]\nprojects = ["OPS"]\n'
                      + store_section(store_path), encoding="utf-8")
    env = {"JIRA_EMAIL": "bot@example.com", "JIRA_API_TOKEN": "tok-123456", "JIRA_URL": "",
           "JIRA_PAT": "", "JIRA_PM_CONFIG": ""}
    result = CliRunner(env=env).invoke(main, ["--config", str(config), *command])
    assert result.exit_code == 2, result.output
    assert "holds the issues of projects SHOP, not this config's projects OPS" in result.output


def test_a_store_shared_by_two_scopes_before_the_check_is_synced_in_full(store_path):
    """A store two scopes shared before scopes were recorded gets a full sync on its next claim."""
    from jira_pm.store.sync_state import delete_meta

    jira, conn = two_project_jira(), connect(store_path)
    shop, ops = scoped(store_path, "SHOP"), scoped(store_path, "OPS")
    sync(shop, conn, jira, now=lambda: NOW)
    shop_state = conn.execute("SELECT * FROM sync_state").fetchall()
    sync(ops, conn, jira, now=lambda: NOW, new_scope=True)  # removes SHOP's issues
    # As the old version left such a store: no scope recorded, both scopes' cursors.
    delete_meta(conn, "scope")
    with transaction(conn):
        for row in shop_state:
            conn.execute(f"INSERT INTO sync_state VALUES ({', '.join('?' * len(row))})",
                         tuple(row))
    result = sync(shop, conn, jira, now=lambda: NOW)  # SHOP's cursor still says "up to date"
    assert result.mode == "full"
    assert stored_keys(conn) == ["SHOP-10001", "SHOP-10002", "SHOP-10003"]
    conn.close()


def test_project_keys_in_another_case_are_the_same_scope(store_path):
    """Jira project keys are case-insensitive: ["shop"] then ["SHOP"] (or widened) is accepted."""
    jira, conn = two_project_jira(), connect(store_path)
    sync(scoped(store_path, "shop"), conn, jira, now=lambda: NOW)
    result = sync(scoped(store_path, "SHOP"), conn, jira, now=lambda: NOW)
    assert result.mode == "incremental"  # not a move: no full sync
    sync(scoped(store_path, "Shop", "ops"), conn, jira, now=lambda: NOW)
    conn.close()


def test_a_sync_of_another_scope_waits_for_no_one_and_does_nothing(store_path):
    """While one scope syncs a new store, a config of another scope is told a sync is running."""
    from jira_pm.errors import LockBusy
    from jira_pm.store.locks import sync_lock

    jira, conn = two_project_jira(), connect(store_path)
    with sync_lock(store_path), pytest.raises(LockBusy):  # the first scope's sync, mid-way
        sync(scoped(store_path, "OPS"), conn, jira, now=lambda: NOW)
    assert stored_keys(conn) == []
    conn.close()


def test_an_interrupted_move_still_removes_the_old_scopes_issues(store_path):
    """A --new-scope sync killed mid-way leaves a reconcile due, even with automatic ones off."""
    from test_sync_interrupted import heal, kill_search_after

    jira, conn = two_project_jira(), connect(store_path)
    sync(scoped(store_path, "SHOP"), conn, jira, now=lambda: NOW)
    kill_search_after(jira, at_end=True)
    with pytest.raises(KeyboardInterrupt):
        sync(scoped(store_path, "OPS"), conn, jira, now=lambda: NOW, new_scope=True)
    heal(jira)
    sync(scoped(store_path, "OPS"), conn, jira, now=lambda: NOW)  # reconcile_every_hours = 0
    assert stored_keys(conn) == ["OPS-20001", "OPS-20002"]
    sync(scoped(store_path, "OPS"), conn, jira, now=lambda: NOW)  # and only once
    conn.close()


def test_new_scope_on_the_recorded_scope_still_syncs_in_full_and_reconciles(store_path):
    """sync --new-scope repairs a store whose issues are not its recorded scope's (full sync)."""
    jira, conn = two_project_jira(), connect(store_path)
    shop = scoped(store_path, "SHOP")
    sync(shop, conn, jira, now=lambda: NOW)
    with transaction(conn):  # issues of another scope, as a damaged store holds them
        conn.execute("UPDATE issues SET key = 'OPS-' || id, project_key = 'OPS'")
    result = sync(shop, conn, jira, now=lambda: NOW, new_scope=True)
    assert result.mode == "full"
    assert stored_keys(conn) == ["SHOP-10001", "SHOP-10002", "SHOP-10003"]
    conn.close()


def test_a_move_killed_before_it_removed_the_old_issues_is_refused_by_audit_and_apply(store_path):
    """Until a killed move has removed the old scope's issues, audit and apply refuse the store."""
    from test_sync_interrupted import heal, kill_search_after

    from jira_pm.errors import UsageError
    from jira_pm.runner import require_synced

    jira, conn = two_project_jira(), connect(store_path)
    sync(scoped(store_path, "SHOP"), conn, jira, now=lambda: NOW)
    ops = scoped(store_path, "OPS")
    kill_search_after(jira, pages=0)  # killed before its first page
    with pytest.raises(KeyboardInterrupt):
        sync(ops, conn, jira, now=lambda: NOW, new_scope=True)
    with pytest.raises(UsageError) as refused:
        require_synced(conn, ops, "apply")
    assert "is moving to projects OPS" in refused.value.one_line()
    assert "run `jira-pm sync` to finish the move" in refused.value.one_line()
    heal(jira)
    sync(ops, conn, jira, now=lambda: NOW)
    require_synced(conn, ops, "apply")  # the move finished: nothing left to refuse
    assert stored_keys(conn) == ["OPS-20001", "OPS-20002"]
    conn.close()


def test_a_scope_change_jira_rejects_leaves_the_store_with_its_scope(store_path):
    """A widened scope with a project Jira does not know fails and claims nothing."""
    jira, conn = two_project_jira(), connect(store_path)
    shop = scoped(store_path, "SHOP")
    sync(shop, conn, jira, now=lambda: NOW)
    jira.bad_jql = True  # "The value 'SHPO' does not exist for the field 'project'"
    with pytest.raises(ConfigError) as rejected:
        sync(scoped(store_path, "SHOP", "SHPO"), conn, jira, now=lambda: NOW)
    assert "Jira rejected the sync query" in rejected.value.one_line()
    jira.bad_jql = False
    assert sync(shop, conn, jira, now=lambda: NOW).mode == "incremental"
    conn.close()
