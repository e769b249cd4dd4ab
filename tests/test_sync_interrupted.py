"""Disturbed syncs against the in-memory Jira: kills, vanishing issues, odd search answers."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from test_sync import (
    NOW,
    FakeJira,
    assert_store_matches,
    drop_changelog_from_search,
    killed_first_sync,
    result_scope,
    settings,
)

from jira_pm.store import connect
from jira_pm.store.issues import get_sync_state, load_site, set_meta
from jira_pm.store.sync_state import unsynced_reason
from jira_pm.sync import scope_key, sync


def kill_search_after(jira: FakeJira, pages: int | None = None, *, at_end: bool = False) -> None:
    """Make the next searches die (KeyboardInterrupt) after ``pages`` pages, or after their last."""
    original = FakeJira.search

    def search(jql, fields, expand=(), page_size=None, deferred=False):
        for number, page in enumerate(original(jira, jql, fields, expand, page_size)):
            if pages is not None and number >= pages:
                raise KeyboardInterrupt("killed")
            yield page
        if at_end:
            raise KeyboardInterrupt("killed before the end of the search")

    jira.search = search


def heal(jira: FakeJira) -> None:
    """Undo every kill and fault installed on the instance."""
    for name in ("search", "bulk_changelogs"):
        jira.__dict__.pop(name, None)
    jira.fail_after_pages = None


def small_site(deployment: str) -> FakeJira:
    jira = FakeJira(deployment=deployment)
    for issue_id in range(10001, 10011):
        jira.add(issue_id)
    jira.add(10011, histories=45, worklogs=25)  # truncated by search on both counts
    jira.add(10012, histories=45)  # truncated changelog only (Cloud: bulkfetch)
    return jira


@pytest.fixture(params=["Cloud", "Server"])
def jira(request) -> FakeJira:
    return small_site(request.param)


# ------------------------------------------------------------------ half-synced store


def test_a_store_whose_first_full_sync_was_killed_is_not_ready_until_it_completes(store_path, jira):
    """A killed first full sync leaves the scope "interrupted"; the resumed sync makes it ready."""
    conn = connect(store_path)
    scope = result_scope(store_path)
    assert unsynced_reason(conn, scope) == "never"
    jira.fail_after_pages = 2
    with pytest.raises(KeyboardInterrupt):
        sync(settings(store_path), conn, jira, now=lambda: NOW)
    assert unsynced_reason(conn, scope) == "interrupted"
    jira.fail_after_pages = None
    sync(settings(store_path), conn, jira, now=lambda: NOW + timedelta(minutes=3))
    assert unsynced_reason(conn, scope) is None


def test_a_kill_in_the_catch_up_pass_still_lets_the_next_run_complete_the_first_full_sync(
        store_path, jira):
    """A resumed first full sync killed in its catch-up pass is completed by the next run."""
    conn = killed_first_sync(store_path, jira)
    original = FakeJira.search

    def search_dying_in_the_catch_up(jql, fields, expand=(), page_size=None, deferred=False):
        if "id >" not in jql:  # the catch-up pass asks only for the changed issues
            raise KeyboardInterrupt("killed in the catch-up")
        yield from original(jira, jql, fields, expand, page_size)

    jira.search = search_dying_in_the_catch_up
    with pytest.raises(KeyboardInterrupt):
        sync(settings(store_path), conn, jira, now=lambda: NOW + timedelta(minutes=3))
    heal(jira)
    sync(settings(store_path), conn, jira, now=lambda: NOW + timedelta(minutes=6))
    assert unsynced_reason(conn, result_scope(store_path)) is None
    assert load_site(conn).issues[10002].story_points == 13.0


def test_a_migrated_store_with_a_completed_full_sync_is_ready(store_path, jira):
    """The migration's full-sync flag and an interrupted later sync leave a synced scope ready."""
    conn = connect(store_path)
    sync(settings(store_path), conn, jira, now=lambda: NOW)
    set_meta(conn, "full_sync_due", "schema 2 stores the creator of each issue")
    jira.fail_after_pages = 1
    with pytest.raises(KeyboardInterrupt):
        sync(settings(store_path), conn, jira, now=lambda: NOW + timedelta(minutes=5))
    assert get_sync_state(conn, result_scope(store_path)).checkpoint is not None
    assert unsynced_reason(conn, scope_key(settings(store_path))) is None


def test_a_resumed_first_sync_counts_every_issue_once(store_path, jira):
    """The summary of a resumed full sync counts the site's issues, not only the rest or twice."""
    # Changed while jira-pm was down: the catch-up fetches it again, named apart.
    conn = killed_first_sync(store_path, jira)
    result = sync(settings(store_path), conn, jira, now=lambda: NOW + timedelta(minutes=3))
    assert result.issues == len(jira.issues) and result.caught_up == 1
    assert result.summary().startswith(f"full sync: {len(jira.issues)} issues")


# ------------------------------------------------------------------ reconcile


def test_a_store_never_reconciled_reconciles_with_the_sync_that_completes_its_first_full_sync(
        store_path, jira):
    """An interrupted first full sync, resumed, reconciles then: issues deleted meanwhile go."""
    conn = connect(store_path)
    configured = settings(store_path, reconcile_every_hours=24)
    jira.fail_after_pages = 2
    with pytest.raises(KeyboardInterrupt):
        sync(configured, conn, jira, now=lambda: NOW)
    jira.fail_after_pages = None
    del jira.issues[10002]  # saved before the kill, deleted while jira-pm was down
    result = sync(configured, conn, jira, now=lambda: NOW + timedelta(minutes=3))
    assert result.reconciled and result.deleted == 1
    assert get_sync_state(conn, result_scope(store_path)).last_reconcile is not None
    assert_store_matches(conn, jira)


# ------------------------------------------------------------------ pending changelogs


def test_pending_changelogs_survive_a_second_kill_when_a_chain_ends_first(store_path):
    """Killed at its end, then in the bulkfetch after its chain ended: a third run completes."""
    jira = FakeJira(deployment="Cloud")
    for issue_id in range(10001, 10008):
        jira.add(issue_id, histories=45 if issue_id in (10002, 10005) else 2)
    conn = connect(store_path)
    # Kill 1: every page saved (changelogs pending), the search's end not yet seen.
    kill_search_after(jira, at_end=True)
    with pytest.raises(KeyboardInterrupt):
        sync(settings(store_path), conn, jira, now=lambda: NOW)
    heal(jira)
    assert get_sync_state(conn, result_scope(store_path)).checkpoint[
        "pending_changelogs"] == [10002, 10005]

    # Kill 2: the resumed chain ends at once (its checkpoint is saved), then bulkfetch dies.
    def dying_bulkfetch(ids):
        raise KeyboardInterrupt("killed in bulkfetch")

    jira.bulk_changelogs = dying_bulkfetch
    with pytest.raises(KeyboardInterrupt):
        sync(settings(store_path), conn, jira, now=lambda: NOW + timedelta(minutes=1))
    heal(jira)
    assert get_sync_state(conn, result_scope(store_path)).checkpoint[
        "pending_changelogs"] == [10002, 10005]

    result = sync(settings(store_path), conn, jira, now=lambda: NOW + timedelta(minutes=2))
    assert result.changelogs_completed == 2
    assert len(load_site(conn).issues[10002].changes) == 45
    assert_store_matches(conn, jira)


# ------------------------------------------------------------------ vanishing issues


def delete_once_served(jira: FakeJira, victim: int) -> None:
    """Delete ``victim`` from the fake right after the search page holding it is served."""
    original = FakeJira.search

    def search(jql, fields, expand=(), page_size=None, deferred=False):
        for page in original(jira, jql, fields, expand, page_size):
            if any(int(raw["id"]) == victim for raw in page):
                jira.issues.pop(victim, None)
            yield page

    jira.search = search


@pytest.mark.parametrize("victim", [10011, 10012])
def test_an_issue_deleted_before_its_follow_up_request_is_skipped_and_the_rest_saved(
        store_path, jira, victim):
    """A 404 on a worklog/changelog follow-up (or absence from bulkfetch) skips only that issue."""
    conn = connect(store_path)
    delete_once_served(jira, victim)
    result = sync(settings(store_path), conn, jira, now=lambda: NOW)
    assert result.skipped == 1 and result.issues == len(jira.issues)
    assert "1 issue skipped" in result.summary()
    assert_store_matches(conn, jira)  # the victim is not stored, half-complete or otherwise
    assert get_sync_state(conn, result_scope(store_path)).cursor == NOW


def test_an_issue_forbidden_on_its_follow_up_is_skipped_and_its_stored_copy_kept(store_path, jira):
    """403 on a worklog follow-up of an incremental sync skips it; the earlier copy stays."""
    from jira_pm.errors import JiraPermissionError

    conn = connect(store_path)
    sync(settings(store_path), conn, jira, now=lambda: NOW)
    jira.touch(10011, NOW + timedelta(minutes=5), points=8.0)

    def forbidden(issue_id):
        raise JiraPermissionError("you may not see it (403)")

    jira.worklogs = forbidden
    result = sync(settings(store_path), conn, jira, now=lambda: NOW + timedelta(minutes=10))
    assert result.skipped == 1 and result.issues == 0
    assert load_site(conn).issues[10011].story_points == 1.0  # as the first sync stored it


# ------------------------------------------------------------------ search without changelog


def test_a_search_answer_without_the_changelog_is_one_warning(store_path, jira, caplog):
    """expand=changelog dropped (a proxy): one warning, Cloud bulkfetches, DC fetches per issue."""
    drop_changelog_from_search(jira)
    conn = connect(store_path)
    with caplog.at_level(logging.WARNING, logger="jira_pm.sync.completion"):
        result = sync(settings(store_path), conn, jira, now=lambda: NOW)
    warnings = [r for r in caplog.records if "without the changelog" in r.getMessage()]
    assert len(warnings) == 1
    assert result.changelogs_missing == len(jira.issues)
    assert "warning: search answered 12 issues without the changelog" in result.summary()
    if jira.is_cloud:
        assert jira.changelog_calls == 0 and len(jira.bulk_calls) == 1
    else:
        assert jira.changelog_calls == len(jira.issues)
    assert_store_matches(conn, jira)
