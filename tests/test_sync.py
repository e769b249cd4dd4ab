"""Sync logic against an in-memory Jira that pages, truncates and counts like the real one."""

from __future__ import annotations

import gc
import re
import sqlite3
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from jira_pm.config import Settings
from jira_pm.errors import ConfigError, JiraJqlRejected, JiraNotFound
from jira_pm.model import Person
from jira_pm.store import connect
from jira_pm.store.issues import FULL_SYNC_DUE, get_meta, get_sync_state, load_site
from jira_pm.sync import jql_since, page_jql, scope_jql, sync

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
SPRINT_FIELD = "customfield_10020"
POINTS_FIELD = "customfield_10016"


def jira_time(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


class FakeJira:
    """Just enough of JiraClient: id-ordered pages of 3, Cloud-style truncation, request counts."""

    PAGE = 3

    def __init__(self, deployment: str = "Cloud", timezone: str = "Europe/Berlin"):
        self._deployment = deployment
        self.timezone = timezone
        self.http = SimpleNamespace(requests_sent=0)
        self.issues: dict[int, dict] = {}
        self.versions = {"PM": [{"id": "500", "name": "1.0", "releaseDate": "2026-12-01",
                                 "released": False, "archived": False}]}
        self.jqls: list[str] = []
        self.expands: list[list[str]] = []  # the expand of each search
        self.bulk_calls: list[list[int]] = []  # the ids of each bulk_changelogs call
        self.fail_after_pages: int | None = None
        self.changelog_calls = 0  # per-issue changelog requests
        self.bad_jql = False
        self.server_now = NOW  # Jira's clock, as serverInfo reports it

    # -- test data
    def add(self, issue_id: int, project: str = "PM", histories: int = 2, worklogs: int = 1,
            updated: datetime = NOW - timedelta(days=3)) -> None:
        self.issues[issue_id] = {
            "id": issue_id, "key": f"{project}-{issue_id}", "project": project, "updated": updated,
            "points": float(issue_id % 5),
            "histories": [
                {"id": str(issue_id * 1000 + h), "created": jira_time(NOW - timedelta(days=30 - h)),
                 "author": {"accountId": "acc-1", "displayName": "Ann"},
                 "items": [{"field": "status", "fieldId": "status", "from": "1",
                            "fromString": "To Do", "to": "3", "toString": "In Progress"}]}
                for h in range(histories)
            ],
            "worklogs": [
                {"id": str(issue_id * 1000 + w), "author": {"accountId": "acc-2"},
                 "started": jira_time(NOW - timedelta(days=10, hours=w)), "timeSpentSeconds": 600}
                for w in range(worklogs)
            ],
        }

    def touch(self, issue_id: int, when: datetime, **changes) -> None:
        self.issues[issue_id].update(changes, updated=when)

    def _count(self, n: int = 1) -> None:
        self.http.requests_sent += n

    def _render(self, data: dict, truncate: bool) -> dict:
        histories = data["histories"][:40] if truncate else data["histories"]
        worklogs = data["worklogs"][:20]
        return {
            "id": str(data["id"]), "key": data["key"],
            "fields": {
                "summary": f"issue {data['id']}", "issuetype": {"name": "Story", "subtask": False,
                                                               "hierarchyLevel": 0},
                "status": {"id": "3", "name": "In Progress",
                           "statusCategory": {"key": "indeterminate"}},
                "project": {"key": data["project"]}, "created": jira_time(NOW - timedelta(days=40)),
                "updated": jira_time(data["updated"]), "labels": [],
                "fixVersions": [{"id": "500"}], "timetracking": {},
                POINTS_FIELD: data["points"],
                SPRINT_FIELD: [{"id": 7, "name": "S7", "state": "active", "boardId": 1,
                                "startDate": "2026-11-09T09:00:00.000Z"}],
                "worklog": {"startAt": 0, "maxResults": 20, "total": len(data["worklogs"]),
                            "worklogs": worklogs},
            },
            "changelog": {"startAt": 0, "maxResults": 40, "total": len(data["histories"]),
                          "histories": histories},
        }

    # -- the JiraClient calls sync makes
    def deployment(self) -> str:
        return self._deployment

    @property
    def is_cloud(self) -> bool:
        return self._deployment == "Cloud"

    def server_info(self) -> dict:
        self._count()
        return {"deploymentType": self._deployment, "serverTime": jira_time(self.server_now)}

    def myself(self) -> dict:
        self._count()
        return {"accountId": "me", "timeZone": self.timezone}

    def fields(self) -> list[dict]:
        self._count()
        return [
            {"id": SPRINT_FIELD, "name": "Sprint",
             "schema": {"custom": "com.pyxis.greenhopper.jira:gh-sprint"}},
            {"id": POINTS_FIELD, "name": "Story point estimate",
             "schema": {"type": "number", "custom": "com.pyxis.greenhopper.jira:jsw-story-points"}},
        ]

    def statuses(self) -> list[dict]:
        self._count()
        return [{"id": "3", "name": "In Progress", "statusCategory": {"key": "indeterminate"}}]

    def _matching(self, jql: str) -> list[dict]:
        if self.bad_jql:
            raise JiraJqlRejected("Error in the JQL Query: Expecting operator but got 'x'.",
                                 status=400)
        found = list(self.issues.values())
        projects = re.search(r"project in \(([^)]*)\)", jql)
        if projects:
            keys = {k.strip() for k in projects.group(1).split(",")}
            found = [i for i in found if i["project"] in keys]
        since = re.search(r'updated >= "([^"]+)"', jql)
        if since:
            local = datetime.strptime(since.group(1), "%Y/%m/%d %H:%M")
            instant = local.replace(tzinfo=ZoneInfo(self.timezone))
            found = [i for i in found if i["updated"] >= instant]
        for operator, number in re.findall(r"\bid (>=|<=|>) (\d+)", jql):
            bound = int(number)
            found = [i for i in found if (i["id"] > bound if operator == ">" else
                                          i["id"] >= bound if operator == ">=" else
                                          i["id"] <= bound)]
        return sorted(found, key=lambda i: i["id"])

    def search(self, jql, fields, expand=(), page_size=None, deferred=False):
        self.jqls.append(jql)
        self.expands.append(list(expand))
        found = self._matching(jql)
        for pages, start in enumerate(range(0, max(len(found), 1), self.PAGE)):
            if self.fail_after_pages is not None and pages >= self.fail_after_pages:
                raise KeyboardInterrupt("killed")
            self._count()
            yield [self._render(i, truncate=True) for i in found[start : start + self.PAGE]]

    def approximate_count(self, jql):
        self._count()
        return len(self._matching(jql)) if self._deployment == "Cloud" else None

    def search_ids(self, jql):
        self._count()
        yield [i["id"] for i in self._matching(jql)]

    def bulk_changelogs(self, ids):
        # As JiraClient: every id asked is a key; one Jira left out has no histories.
        self.bulk_calls.append(list(ids))
        self._count((len(ids) + 9) // 10)
        return {i: self.issues[i]["histories"] if i in self.issues else [] for i in ids}

    def _existing(self, issue_id):
        if issue_id not in self.issues:
            raise JiraNotFound("Issue does not exist or you do not have permission to see it.",
                               status=404)
        return self.issues[issue_id]

    def changelog(self, issue_id):
        self._count()
        self.changelog_calls += 1
        return self._existing(issue_id)["histories"]

    def worklogs(self, issue_id):
        self._count()
        return self._existing(issue_id)["worklogs"]

    def project_versions(self, key):
        self._count()
        return self.versions.get(key, [])

    def issue(self, issue_id, fields=None, expand=()):
        self._count()
        if issue_id not in self.issues:
            raise JiraNotFound("Issue does not exist or you do not have permission to see it.",
                               status=404)
        project = self.issues[issue_id]["project"]
        return {"id": str(issue_id), "fields": {"project": {"key": project}}}


def settings(store, **sync_section):
    """Settings of project PM with the store ``store`` (the ``store_path`` fixture)."""
    return Settings.for_tests(
        projects=("PM",), store_path=store,
        sync={"overlap_minutes": 5, "reconcile_every_hours": 0, **sync_section},
    )


def assert_store_matches(conn, jira: FakeJira) -> None:
    """Every issue, history item and worklog of the fake is in the store, and nothing else."""
    site = load_site(conn)
    assert set(site.issues) == set(jira.issues)
    for issue_id, data in jira.issues.items():
        issue = site.issues[issue_id]
        assert issue.key == data["key"] and issue.story_points == data["points"]
        assert sorted({c.history_id for c in issue.changes}) == sorted(
            int(h["id"]) for h in data["histories"]
        )
        assert sorted(w.id for w in issue.worklogs) == sorted(
            int(w["id"]) for w in data["worklogs"]
        )
        assert issue.sprint_ids == (7,) and issue.fix_version_ids == (500,)


@pytest.fixture(params=["Cloud", "Server"])
def jira(request) -> FakeJira:
    fake = FakeJira(deployment=request.param)
    for issue_id in range(10001, 10011):
        fake.add(issue_id)
    fake.add(10011, histories=45, worklogs=25)  # truncated by search on both counts
    return fake


def test_full_sync_stores_everything_including_truncated_changelogs_and_worklogs(store_path, jira):
    """A full sync stores every issue, history and worklog, completing the truncated ones."""
    conn = connect(store_path)
    result = sync(settings(store_path), conn, jira, now=lambda: NOW)
    assert_store_matches(conn, jira)
    assert (result.mode, result.issues, result.changelogs_completed, result.worklogs_completed) == (
        "full", 11, 1, 1,
    )
    assert load_site(conn).versions[500].release_date.isoformat() == "2026-12-01"
    assert load_site(conn).sprints[7].state == "active"
    assert get_sync_state(conn, result_scope(store_path)).cursor == NOW


def result_scope(store) -> str:
    from jira_pm.sync import scope_key

    return scope_key(settings(store))


def test_a_second_sync_with_no_change_sends_at_most_two_requests_per_project(store_path, jira):
    """With nothing changed, an incremental sync sends one search and one versions request."""
    conn = connect(store_path)
    sync(settings(store_path), conn, jira, now=lambda: NOW)
    before = jira.http.requests_sent
    result = sync(settings(store_path), conn, jira, now=lambda: NOW + timedelta(minutes=15))
    assert result.mode == "incremental" and result.issues == 0
    assert jira.http.requests_sent - before == result.requests == 2
    # The user's zone (Berlin, UTC+1) and the 5-minute overlap shape the JQL date.
    assert 'updated >= "2026/11/21 12:55"' in jira.jqls[-1]


def test_an_incremental_sync_fetches_only_the_changed_issues(store_path, jira):
    """After two issues change, the next sync fetches those two and stores their new values."""
    conn = connect(store_path)
    sync(settings(store_path), conn, jira, now=lambda: NOW)
    jira.touch(10003, NOW + timedelta(minutes=5), points=8.0, key="PM-3b")
    jira.touch(10011, NOW + timedelta(minutes=6))
    jira.issues[10011]["histories"].append(
        {"id": "99999999", "created": jira_time(NOW), "author": None,
         "items": [{"field": "Story Points", "from": None, "to": None, "toString": "8"}]}
    )
    result = sync(settings(store_path), conn, jira, now=lambda: NOW + timedelta(minutes=10))
    assert result.issues == 2
    assert_store_matches(conn, jira)


def test_an_interrupted_sync_resumes_after_its_checkpoint_and_ends_complete(store_path, jira):
    """A sync killed after two pages keeps them; the rerun resumes after them and completes."""
    conn = connect(store_path)
    jira.fail_after_pages = 2
    with pytest.raises(KeyboardInterrupt):
        sync(settings(store_path), conn, jira, now=lambda: NOW)
    site = load_site(conn)
    assert sorted(site.issues) == sorted(jira.issues)[: 2 * FakeJira.PAGE]
    state = get_sync_state(conn, result_scope(store_path))
    assert state.checkpoint["chains"][0]["after"] == 10006 and state.cursor is None
    jira.fail_after_pages = None
    result = sync(settings(store_path), conn, jira, now=lambda: NOW + timedelta(minutes=3))
    assert result.resumed and result.mode == "full"
    assert "id > 10006" in jira.jqls[-2]
    # Then a catch-up pass from the interrupted run's start (Berlin time, 5 minutes overlap).
    assert 'updated >= "2026/11/21 12:55"' in jira.jqls[-1] and "id >" not in jira.jqls[-1]
    assert_store_matches(conn, jira)
    state = get_sync_state(conn, result_scope(store_path))
    assert state.checkpoint is None and state.cursor == NOW + timedelta(minutes=3)


def killed_first_sync(store_path, jira):
    """A store whose first full sync was killed after two pages, and issue 10002 changed in
    Jira while jira-pm was down."""
    conn = connect(store_path)
    jira.fail_after_pages = 2
    with pytest.raises(KeyboardInterrupt):
        sync(settings(store_path), conn, jira, now=lambda: NOW)
    jira.fail_after_pages = None
    jira.touch(10002, NOW + timedelta(minutes=1), points=13.0)
    return conn


def test_a_resumed_sync_also_fetches_issues_changed_below_its_checkpoint(store_path, jira):
    """An issue already saved before the kill but changed while sync was down is caught up."""
    conn = killed_first_sync(store_path, jira)
    sync(settings(store_path), conn, jira, now=lambda: NOW + timedelta(minutes=3))
    assert load_site(conn).issues[10002].story_points == 13.0


def test_reconcile_removes_deleted_and_moved_out_issues_and_rekeys_moved_ones(store_path, jira):
    """--reconcile drops deleted and moved-out issues; an issue moved within scope is rekeyed."""
    conn = connect(store_path)
    sync(settings(store_path), conn, jira, now=lambda: NOW)
    del jira.issues[10002]
    jira.touch(10004, NOW + timedelta(minutes=1), project="OTHER", key="OTHER-1")
    jira.touch(10005, NOW + timedelta(minutes=1), key="PM-99")
    result = sync(settings(store_path), conn, jira, reconcile=True,
                  now=lambda: NOW + timedelta(minutes=10))
    assert result.reconciled and result.deleted == 2
    site = load_site(conn)
    assert 10002 not in site.issues and 10004 not in site.issues
    assert site.issues[10005].key == "PM-99"


def test_reconcile_removes_an_issue_jira_now_hides_with_403(store_path, jira):
    """An issue moved behind a security level answers 403: reconcile drops it, not the sync."""
    from jira_pm.errors import JiraPermissionError

    conn = connect(store_path)
    sync(settings(store_path), conn, jira, now=lambda: NOW)
    hidden = jira.issues.pop(10002)
    original = jira.issue

    def issue(issue_id, fields=None, expand=()):
        if issue_id == 10002:
            raise JiraPermissionError("You do not have the permission to see the issue.",
                                      status=403)
        return original(issue_id, fields, expand)

    jira.issue = issue
    result = sync(settings(store_path), conn, jira, reconcile=True,
                  now=lambda: NOW + timedelta(minutes=10))
    assert hidden and result.reconciled and result.deleted == 1
    assert 10002 not in load_site(conn).issues


def lagging_search(jira: FakeJira, hidden: int) -> None:
    """Make the ids-only search omit one issue, as Cloud's eventually consistent index can."""
    original = jira.search_ids

    def search_ids(jql):
        for page in original(jql):
            yield [i for i in page if int(i) != hidden]

    jira.search_ids = search_ids


def test_reconcile_keeps_an_in_scope_issue_the_id_search_missed(store_path, jira):
    """An issue a lagging search omits, but GET still finds in a configured project, is kept."""
    conn = connect(store_path)
    sync(settings(store_path), conn, jira, now=lambda: NOW)
    lagging_search(jira, 10003)
    result = sync(settings(store_path), conn, jira, reconcile=True,
                  now=lambda: NOW + timedelta(minutes=10))
    assert result.reconciled and result.deleted == 0
    assert 10003 in load_site(conn).issues


def test_reconcile_with_a_jql_filter_trusts_the_search_for_an_issue_it_omits(store_path, jira):
    """With a JQL filter, an issue the search stops returning has left the scope: removed."""
    conn = connect(store_path)
    filtered = Settings.for_tests(
        projects=("PM",), store_path=store_path,
        scope={"projects": ["PM"], "jql": "labels = keep"},
        sync={"overlap_minutes": 5, "reconcile_every_hours": 0},
    )
    sync(filtered, conn, jira, now=lambda: NOW)
    lagging_search(jira, 10003)
    result = sync(filtered, conn, jira, reconcile=True, now=lambda: NOW + timedelta(minutes=10))
    assert result.reconciled and result.deleted == 1
    assert 10003 not in load_site(conn).issues


def test_reconcile_runs_by_itself_once_its_interval_has_passed(store_path, jira):
    """With reconcile_every_hours = 24, the first sync a day after the last reconcile reconciles."""
    conn = connect(store_path)
    configured = settings(store_path, reconcile_every_hours=24)
    sync(configured, conn, jira, now=lambda: NOW)
    assert not sync(configured, conn, jira, now=lambda: NOW + timedelta(hours=1)).reconciled
    del jira.issues[10001]
    later = sync(configured, conn, jira, now=lambda: NOW + timedelta(hours=25))
    assert later.reconciled and later.deleted == 1


def test_jira_rejecting_the_scope_jql_is_a_config_error_with_jiras_message(store_path, jira):
    """A 400 on the sync search becomes a ConfigError (exit 2) that quotes Jira's message."""
    conn = connect(store_path)
    jira.bad_jql = True
    with pytest.raises(ConfigError, match="Expecting operator") as caught:
        sync(settings(store_path), conn, jira, now=lambda: NOW)
    assert caught.value.exit_code == 2


def test_cursors_follow_jiras_clock_when_the_local_clock_is_off(store_path, jira):
    """With the local clock a day ahead of Jira's, an incremental sync still sees new changes."""
    conn = connect(store_path)
    local_ahead = NOW + timedelta(days=1)
    sync(settings(store_path), conn, jira, now=lambda: local_ahead)
    assert get_sync_state(conn, result_scope(store_path)).cursor == NOW
    jira.touch(10003, NOW + timedelta(minutes=2), points=21.0)
    result = sync(settings(store_path), conn, jira, now=lambda: local_ahead + timedelta(minutes=5))
    assert result.issues == 1
    assert load_site(conn).issues[10003].story_points == 21.0


def test_jql_dates_are_written_in_the_users_zone_at_minute_resolution():
    """The cursor instant is shown in the Jira user's zone, floored to the minute."""
    instant = datetime(2026, 7, 1, 22, 59, 59, tzinfo=UTC)
    assert jql_since(instant, "America/Los_Angeles") == "2026/07/01 15:59"
    assert jql_since(instant, "Asia/Kathmandu") == "2026/07/02 04:44"
    assert jql_since(instant, "Not/AZone") == "2026/07/01 22:59"


def test_the_scope_jql_combines_projects_and_the_filter_without_its_order_by(tmp_path):
    """Projects and the configured JQL are ANDed; the filter's ORDER BY is dropped."""
    configured = Settings.for_tests(
        projects=("PM", "OPS"), store_path=tmp_path / "s.sqlite",
        scope={"jql": "labels != wontfix ORDER BY rank"},
    )
    assert scope_jql(configured) == "project in (PM, OPS) AND (labels != wontfix)"
    assert page_jql("project in (PM)", "2026/11/21 10:00", 7) == (
        '(project in (PM)) AND updated >= "2026/11/21 10:00" AND id > 7'
    )


def test_cloud_bulkfetches_truncated_changelogs_once_and_a_kill_keeps_them_pending(store_path):
    """Truncated Cloud changelogs wait in the checkpoint for one bulkfetch, even across a kill."""
    jira = FakeJira(deployment="Cloud")
    for issue_id in range(10000, 10009):
        jira.add(issue_id, histories=45 if issue_id in (10000, 10004) else 2)
    conn = connect(store_path)
    jira.fail_after_pages = 2
    with pytest.raises(KeyboardInterrupt):
        sync(settings(store_path), conn, jira, now=lambda: NOW)
    state = get_sync_state(conn, result_scope(store_path))
    assert state.checkpoint["pending_changelogs"] == [10000, 10004]
    assert len(load_site(conn).issues[10000].changes) == 40  # saved as search gave it
    jira.fail_after_pages = None
    result = sync(settings(store_path), conn, jira, now=lambda: NOW + timedelta(minutes=3))
    assert result.changelogs_completed == 2
    assert_store_matches(conn, jira)
    assert get_sync_state(conn, result_scope(store_path)).checkpoint is None


class RecordingProgress:
    def __init__(self):
        self.events: list[tuple] = []

    def start(self, total):
        self.events.append(("start", total))

    def advance(self, issues):
        self.events.append(("advance", issues))

    def finish(self):
        self.events.append(("finish",))


def test_progress_gets_cloud_approximate_count_and_every_page(store_path, jira):
    """A progress bar is started with Cloud's approximate count and advanced once per page."""
    progress = RecordingProgress()
    sync(settings(store_path), connect(store_path), jira, progress=progress,
         now=lambda: NOW)
    expected_total = 11 if jira.deployment() == "Cloud" else None
    assert progress.events == [
        ("start", expected_total), ("advance", 3), ("advance", 3), ("advance", 3),
        ("advance", 2), ("finish",),
    ]


class CollectorWatch(RecordingProgress):
    """A progress that notes whether the cyclic collector runs while pages are saved."""

    def advance(self, issues):
        super().advance(gc.isenabled())


def test_the_cyclic_collector_is_paused_while_pages_are_saved_and_back_after(store_path, jira):
    """Buffered pages are many live objects the collector would rescan: sync pauses it."""
    gc.enable()
    watch = CollectorWatch()
    sync(settings(store_path), connect(store_path), jira, progress=watch, now=lambda: NOW)
    assert [e[1] for e in watch.events if e[0] == "advance"] == [False] * 4
    assert gc.isenabled()
    jira.bad_jql = True  # a sync that fails gives it back too
    with pytest.raises(ConfigError):
        sync(settings(store_path), connect(store_path), jira, full=True, now=lambda: NOW)
    assert gc.isenabled()


def test_a_large_cloud_full_sync_pages_disjoint_id_ranges_concurrently_and_resumes(store_path):
    """A big Cloud full sync splits into id ranges; a killed one resumes each of its ranges."""
    from jira_pm.sync import Syncer

    jira = FakeJira(deployment="Cloud")
    for issue_id in range(10001, 10031):
        jira.add(issue_id, histories=45 if issue_id == 10017 else 2)
    conn = connect(store_path)
    syncer = Syncer(settings(store_path), conn, jira, now=lambda: NOW)
    syncer.min_issues_per_chain = 10
    jira.fail_after_pages = 2
    with pytest.raises(KeyboardInterrupt):
        syncer.run()
    chains = get_sync_state(conn, result_scope(store_path)).checkpoint["chains"]
    assert [(c["low"], c["high"]) for c in chains] == [
        (None, 10010), (10011, 10020), (10021, None),
    ]
    ranged = [j for j in jira.jqls if "id >= 10011" in j and "id <= 10020" in j]
    assert ranged, jira.jqls
    jira.fail_after_pages = None
    resumed = Syncer(settings(store_path), conn, jira, now=lambda: NOW + timedelta(minutes=2))
    result = resumed.run()
    assert result.resumed
    assert_store_matches(conn, jira)
    assert get_sync_state(conn, result_scope(store_path)).checkpoint is None


def test_a_page_whose_save_is_cut_short_is_fetched_again_by_the_resumed_run(
        store_path, monkeypatch):
    """Interrupted while saving a page: other pages already complete are kept, the
    checkpoint does not move past the unsaved one, and the resumed run fetches it."""
    from jira_pm.sync import Syncer
    from jira_pm.sync import syncer as syncer_module

    jira = FakeJira(deployment="Cloud")
    for issue_id in range(10001, 10031):
        jira.add(issue_id)
    save_issues = syncer_module.save_issues

    def interrupted_at_10004(conn, issues, page, synced_at):
        if any(issue.id == 10004 for issue in issues):
            raise KeyboardInterrupt("interrupted while saving")
        save_issues(conn, issues, page, synced_at)

    monkeypatch.setattr(syncer_module, "save_issues", interrupted_at_10004)
    conn = connect(store_path)
    syncer = Syncer(settings(store_path), conn, jira, now=lambda: NOW)
    syncer.min_issues_per_chain = 10
    with pytest.raises(KeyboardInterrupt):
        syncer.run()
    checkpoint = get_sync_state(conn, result_scope(store_path)).checkpoint
    assert checkpoint["chains"][0]["after"] == 10003
    assert 10004 not in load_site(conn).issues
    monkeypatch.setattr(syncer_module, "save_issues", save_issues)
    resumed = Syncer(settings(store_path), conn, jira, now=lambda: NOW + timedelta(minutes=2))
    resumed.min_issues_per_chain = 10
    assert resumed.run().resumed
    assert_store_matches(conn, jira)


def test_a_full_sync_also_removes_issues_it_no_longer_sees(store_path, jira):
    """--full drops stored issues Jira now 404s or that moved out of scope, as a reconcile would."""
    conn = connect(store_path)
    sync(settings(store_path), conn, jira, now=lambda: NOW)
    del jira.issues[10002]
    jira.touch(10004, NOW + timedelta(minutes=1), project="OTHER", key="OTHER-1")
    jira.server_now = NOW + timedelta(hours=1)
    result = sync(settings(store_path), conn, jira, full=True, now=lambda: NOW + timedelta(hours=1))
    assert result.reconciled and result.deleted == 2
    assert set(load_site(conn).issues) == set(jira.issues) - {10004}
    state = get_sync_state(conn, result_scope(store_path))
    assert state.last_reconcile == NOW + timedelta(hours=1)


def test_changing_the_fields_overrides_remaps_every_issue_with_a_full_sync(store_path, jira):
    """After [fields] story_points changes, the next sync is full and reads the new field."""
    conn = connect(store_path)
    sync(settings(store_path), conn, jira, now=lambda: NOW)
    assert load_site(conn).issues[10003].story_points == 3.0
    for data in jira.issues.values():
        data["other_points"] = 42.0
    original_render = jira._render

    def render_with_other_field(data, truncate):
        raw = original_render(data, truncate)
        raw["fields"]["customfield_10099"] = data.get("other_points")
        return raw

    jira._render = render_with_other_field
    changed = Settings.for_tests(
        projects=("PM",), store_path=store_path,
        sync={"overlap_minutes": 5, "reconcile_every_hours": 0},
        fields={"story_points": "customfield_10099"},
    )
    result = sync(changed, conn, jira, now=lambda: NOW + timedelta(minutes=10))
    assert result.mode == "full" and result.issues == len(jira.issues)
    assert load_site(conn).issues[10003].story_points == 42.0


def test_known_deployment_prefers_the_config_then_what_the_last_sync_saw(store_path, jira):
    """The deployment hint for a client is the configured one, else the store's, else None."""
    from jira_pm.sync import known_deployment

    conn = connect(store_path)
    assert known_deployment(conn, "auto") is None
    sync(settings(store_path), conn, jira, now=lambda: NOW)
    assert known_deployment(conn, "auto") == jira.deployment().lower()
    assert known_deployment(conn, "cloud") == "cloud"


def test_a_reconcile_rereads_the_users_time_zone_before_writing_jql_dates(store_path, jira):
    """If the Jira user's zone changes, the next reconciling sync writes dates in the new zone."""
    conn = connect(store_path)
    sync(settings(store_path), conn, jira, now=lambda: NOW)
    jira.timezone = "America/New_York"
    sync(settings(store_path), conn, jira, reconcile=True, now=lambda: NOW + timedelta(minutes=10))
    searches = [j for j in jira.jqls if "updated >=" in j]
    assert 'updated >= "2026/11/21 06:55"' in searches[-1]


def test_a_field_newly_discovered_at_a_reconcile_triggers_a_full_remap(store_path, jira):
    """When field discovery finds a different story point field, that sync becomes a full one."""
    conn = connect(store_path)
    sync(settings(store_path), conn, jira, now=lambda: NOW)
    original_fields = jira.fields

    def fields_without_story_points():
        return [f for f in original_fields() if f["id"] != POINTS_FIELD]

    jira.fields = fields_without_story_points
    result = sync(settings(store_path), conn, jira, reconcile=True,
                  now=lambda: NOW + timedelta(minutes=10))
    assert result.mode == "full" and result.issues == len(jira.issues)
    assert load_site(conn).issues[10003].story_points is None


def drop_changelog_from_search(jira: FakeJira) -> None:
    """Search answers carry no changelog, as when a proxy drops ``expand=changelog``."""
    original_render = jira._render

    def render_without_changelog(data, truncate):
        raw = original_render(data, truncate)
        del raw["changelog"]
        return raw

    jira._render = render_without_changelog


def test_without_changelog_in_search_every_changelog_comes_from_batched_bulkfetch(store_path):
    """The bulkfetch-everything strategy stores the same changelogs, one bulkfetch per 1,000."""
    from jira_pm.sync import Syncer

    jira = FakeJira(deployment="Cloud")
    for issue_id in range(10001, 10012):
        jira.add(issue_id, histories=45 if issue_id == 10005 else 2)
    drop_changelog_from_search(jira)
    conn = connect(store_path)
    syncer = Syncer(settings(store_path), conn, jira, now=lambda: NOW)
    syncer.changelog_in_search = False
    result = syncer.run()
    assert jira.expands and all(expand == [] for expand in jira.expands)
    assert jira.bulk_calls == [list(range(10001, 10012))]
    assert result.changelogs_completed == 11
    assert_store_matches(conn, jira)


@pytest.mark.sqlite_only("rewinds the file to a schema-1 SQLite store with sqlite3")
def test_after_the_creator_migration_one_full_sync_fetches_every_creator(store_path, jira):
    """A store upgraded from schema 1 gets one full sync (creators filled), then incrementals."""
    store = store_path
    sync(settings(store_path), connect(store), jira, now=lambda: NOW)
    # Turn the store back into a schema-1 store, as an older jira-pm left it.
    old = sqlite3.connect(store)
    for view in ("jira_pm_findings", "jira_pm_issues", "jira_pm_budgets"):  # schema 4
        old.execute(f"DROP VIEW {view}")
    old.execute("ALTER TABLE issues DROP COLUMN creator_id")
    old.execute("ALTER TABLE issues DROP COLUMN creator_name")
    old.execute("DROP TABLE label_loops")  # added by schema 3
    old.execute("PRAGMA user_version = 1")
    old.close()
    original_render = jira._render

    def render_with_creator(data, truncate):
        raw = original_render(data, truncate)
        raw["fields"]["creator"] = {"accountId": "acc-9", "displayName": "Cleo"}
        return raw

    jira._render = render_with_creator
    conn = connect(store)
    result = sync(settings(store_path), conn, jira, now=lambda: NOW + timedelta(minutes=15))
    assert result.mode == "full" and result.issues == len(jira.issues)
    assert {i.creator for i in load_site(conn).issues.values()} == {Person("acc-9", "Cleo")}
    assert get_meta(conn, FULL_SYNC_DUE) is None
    again = sync(settings(store_path), conn, jira, now=lambda: NOW + timedelta(minutes=30))
    assert again.mode == "incremental"


def test_the_sync_asks_jira_for_the_creator_and_the_reporter(store_path, jira):
    """Search requests name ``creator`` and ``reporter`` among the fields it wants."""
    asked: list[list[str]] = []
    original_search = jira.search

    def recording_search(jql, fields, expand=(), page_size=None, deferred=False):
        asked.append(list(fields))
        return original_search(jql, fields, expand, page_size)

    jira.search = recording_search
    sync(settings(store_path), connect(store_path), jira, now=lambda: NOW)
    assert asked and all({"creator", "reporter"} <= set(fields) for fields in asked)


def test_a_page_awaiting_its_worklogs_does_not_hold_up_another_chains_pages(
        store_path, monkeypatch):
    """A page's truncated worklogs are fetched while other chains' pages are saved."""
    import threading

    from jira_pm.sync import Syncer
    from jira_pm.sync import syncer as syncer_module

    jira = FakeJira(deployment="Cloud")
    # Three chains of ten issues; 10010, on the first chain's last page, needs a completion.
    for issue_id in range(10001, 10031):
        jira.add(issue_id, worklogs=25 if issue_id == 10010 else 1)
    other_chain_saved = threading.Event()
    fetch_worklogs = jira.worklogs
    waited: list[bool] = []

    def slow_worklogs(issue_id):
        waited.append(other_chain_saved.wait(timeout=5))
        return fetch_worklogs(issue_id)

    jira.worklogs = slow_worklogs
    save_issues = syncer_module.save_issues

    def noting_save(conn, issues, page, synced_at):
        save_issues(conn, issues, page, synced_at)
        if any(issue.id > 10010 for issue in issues):
            other_chain_saved.set()

    monkeypatch.setattr(syncer_module, "save_issues", noting_save)
    conn = connect(store_path)
    syncer = Syncer(settings(store_path), conn, jira, now=lambda: NOW)
    syncer.min_issues_per_chain = 10
    result = syncer.run()
    assert waited == [True]
    assert result.worklogs_completed == 1
    assert_store_matches(conn, jira)
