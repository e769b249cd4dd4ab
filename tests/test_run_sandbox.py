"""`jira-pm run` end to end against the sandbox over real HTTP, in both Jira flavours."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime, timedelta
from importlib import resources

import pytest

from jira_pm.config import Settings
from jira_pm.errors import LockBusy
from jira_pm.jira.client import JiraClient
from jira_pm.jira.format import find_markers
from jira_pm.runner import run_pipeline
from jira_pm.sandbox.server import Sandbox
from jira_pm.store import ledger
from jira_pm.store.locks import run_lock
from jira_pm.store.schema import connect

pytestmark = pytest.mark.integration

FLAVORS = ["cloud", "server"]


def _day(offset: int) -> str:
    return (datetime.now(UTC) + timedelta(days=offset)).strftime("%Y-%m-%d")


def _at(offset_days: float) -> str:
    moment = datetime.now(UTC) + timedelta(days=offset_days)
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def scenario() -> dict:
    """A small site dated around today: one overdue release, one creeping sprint,
    one issue over its estimate, people's labels, an exempt issue, an out-of-scope project."""
    return {
        "timezone": "UTC",
        "users": [{"name": "dev", "display": "A Developer"}],  # may edit, is no admin
        "projects": [{"key": "ABC", "name": "Alpha"}, {"key": "OUT", "name": "Outside"}],
        "versions": [
            {"project": "ABC", "name": "1.0", "start": _day(-40), "release": _day(-10)},
            {"project": "OUT", "name": "9.9", "start": _day(-40), "release": _day(-10)},
        ],
        "sprints": [{"name": "ABC Sprint 1", "state": "active", "start": _at(-6),
                     "end": _at(6)}],
        "issues": [
            {"key": "ABC-1", "type": "Story", "status": "In Progress", "fix_versions": ["1.0"],
             "labels": ["backend"], "created": _at(-30)},
            {"key": "ABC-2", "type": "Story", "status": "Done", "fix_versions": ["1.0"],
             "created": _at(-30)},
            {"key": "ABC-3", "type": "Task", "status": "To Do", "fix_versions": ["1.0"],
             "labels": ["pm-ignore"], "created": _at(-30)},
            {"key": "ABC-4", "type": "Story", "status": "To Do",
             "labels": ["pm-at-risk", "frontend"], "created": _at(-30)},
            {"key": "ABC-5", "type": "Task", "status": "In Progress", "original_estimate": "8h",
             "remaining_estimate": "1h", "created": _at(-20), "worklogs": [
                 {"started": _at(-9), "spent": "8h"}, {"started": _at(-8), "spent": "4h"}]},
            {"key": "ABC-6", "type": "Story", "status": "To Do", "points": 3,
             "sprints": ["ABC Sprint 1"], "created": _at(-12)},
            {"key": "ABC-7", "type": "Story", "status": "To Do", "points": 2,
             "sprints": ["ABC Sprint 1"], "created": _at(-12)},
            {"key": "ABC-8", "type": "Story", "status": "To Do", "points": 5,
             "sprints": ["ABC Sprint 1"], "created": _at(-9), "history": [
                 {"at": _at(-2), "field": "Sprint", "from": "", "to": "ABC Sprint 1"}]},
            {"key": "OUT-1", "type": "Story", "status": "To Do", "fix_versions": ["9.9"],
             "labels": ["pm-stale"], "created": _at(-30)},
        ],
    }


EXPECTED_LABELS = {
    "ABC-1": ["backend", "pm-overdue"],
    "ABC-2": [],
    "ABC-3": ["pm-ignore"],
    "ABC-4": ["frontend"],
    "ABC-5": ["pm-over-estimate"],
    "ABC-6": [],
    "ABC-7": [],
    "ABC-8": ["pm-scope-creep"],
    "OUT-1": ["pm-stale"],
}
EXPECTED_COMMENTS = {"ABC-1": ["OD001"], "ABC-5": ["BU004"], "ABC-8": ["SC001"]}


def settings_for(sandbox, store_path, user="admin", **sections):
    login = sandbox.credentials(user)
    jira = {"deployment": sandbox.flavor, "max_retry_seconds": 30}
    if sandbox.flavor == "cloud":
        jira.update(email=login["email"], api_token=login["api_token"])
    else:
        jira.update(pat=login["pat"])
    return Settings.for_tests(url=sandbox.url, projects=["ABC"], store_path=store_path,
                              jira=jira, **sections)


@contextlib.contextmanager
def site(flavor, store, **kw):
    """A sandbox of ``scenario()`` and settings on ``store`` (the ``store_path`` fixture)."""
    with Sandbox(flavor, scenario=scenario()) as sandbox:
        yield sandbox, settings_for(sandbox, store, **kw)


def run(settings, **kw):
    return run_pipeline(settings, JiraClient.from_settings(settings.jira), **kw)


def labels(app):
    return {issue.key: list(issue.labels) for issue in app.state.issues.values()}


def markers(app):
    found = {}
    for issue in app.state.issues.values():
        rules = [rule for c in issue.comments for rule, _ in find_markers(c.body)]
        if rules:
            found[issue.key] = sorted(rules)
    return found


def writes(app) -> int:
    by_method = app.stats()["by_method"]
    return sum(by_method.get(m, 0) for m in ("POST", "PUT", "DELETE"))


@pytest.mark.parametrize("flavor", FLAVORS)
def test_run_writes_exactly_the_expected_labels_and_comments(flavor, store_path):
    """After a run, exactly the expected labels and comments are in the sandbox and no more."""
    with site(flavor, store_path) as (app, settings):
        report = run(settings)
        assert report.exit_code == 0
        assert labels(app) == EXPECTED_LABELS
        assert markers(app) == EXPECTED_COMMENTS
        bodies = [c.body for c in app.state.get_issue("ABC-1").comments]
        if flavor == "cloud":
            assert bodies[0]["type"] == "doc" and bodies[0]["version"] == 1
            assert "[jira-pm OD001 " in json.dumps(bodies[0])
        else:
            assert isinstance(bodies[0], str) and "[jira-pm OD001 " in bodies[0]


@pytest.mark.parametrize("flavor", FLAVORS)
def test_second_run_with_nothing_changed_sends_zero_writes(flavor, store_path):
    """A second run over an unchanged site sends no write request at all."""
    with site(flavor, store_path) as (app, settings):
        run(settings)
        before = writes(app)
        again = run(settings)
        assert writes(app) == before
        assert again.writeback.plan.writes == [] and again.exit_code == 0


@pytest.mark.parametrize("flavor", FLAVORS)
def test_cleared_conditions_lose_their_labels_and_keep_once_comments(flavor, store_path):
    """Releasing the version, deleting a worklog and leaving the sprint remove the labels."""
    with site(flavor, store_path) as (app, settings):
        run(settings)
        state = app.state
        app.release_version("ABC", "1.0")
        app.delete_worklog(state.get_issue("ABC-5").worklogs[0].id)
        app.update_issue("ABC-8", remove_sprint="ABC Sprint 1")
        report = run(settings)
        assert report.exit_code == 0 and report.resolved == 3
        now = labels(app)
        assert now["ABC-1"] == ["backend"] and now["ABC-5"] == [] and now["ABC-8"] == []
        assert markers(app) == EXPECTED_COMMENTS  # policy once: the comment stays as history


@pytest.mark.parametrize("flavor", FLAVORS)
def test_read_only_user_is_given_up_after_five_refusals_and_exit_3(flavor, store_path):
    """A read-only Jira user: 5 writes refused (403), 2 skipped, nothing written, exit 3."""
    with site(flavor, store_path, user="readonly") as (app, settings):
        report = run(settings)
        assert report.exit_code == 3
        outcome = report.writeback.outcome
        assert [f.http_status for f in outcome.failed] == [403] * 5
        assert outcome.given_up == {"ABC": 2} and outcome.done == []
        assert labels(app) == {i["key"]: i.get("labels", []) for i in scenario()["issues"]}
        assert markers(app) == {}


class Crash(BaseException):
    """Stands in for a kill: nothing after it runs; committed ledger rows stay."""


def crash_at(point, operation, nth):
    seen = []

    def fault(where, write):
        if where == point and write.operation == operation:
            seen.append(write)
            if len(seen) == nth:
                raise Crash
    return fault


@pytest.mark.parametrize("flavor", FLAVORS)
def test_a_crash_after_a_comment_post_never_duplicates_it(flavor, store_path):
    """Killed right after a comment POST, before the ledger says done, a rerun posts no twin."""
    with site(flavor, store_path) as (app, settings):
        with pytest.raises(Crash):
            run(settings, fault=crash_at("after-request", "comment", 1))
        conn = connect(settings.store)
        # Comments posted alongside it (max_parallel) were cut short by the same kill.
        statuses = [e.status for e in ledger.entries(conn) if e.operation == "comment"]
        conn.close()
        assert statuses[0] == "pending" and set(statuses) <= {"pending", "done"}
        report = run(settings)
        assert report.exit_code == 0
        assert report.writeback.outcome.adopted == statuses.count("pending")
        assert labels(app) == EXPECTED_LABELS and markers(app) == EXPECTED_COMMENTS


@pytest.mark.parametrize("point,operation,nth", [
    ("before-request", "labels", 1), ("after-request", "labels", 2),
    ("before-request", "comment", 2), ("after-request", "comment", 3),
])
def test_killed_at_several_points_reruns_end_complete_without_twins(store_path, point, operation,
                                                                  nth):
    """Wherever a run dies during apply, the next run leaves every label and one comment each."""
    with site("server", store_path) as (app, settings):
        with pytest.raises(Crash):
            run(settings, fault=crash_at(point, operation, nth))
        assert run(settings).exit_code == 0
        assert labels(app) == EXPECTED_LABELS and markers(app) == EXPECTED_COMMENTS


def test_a_429_storm_during_apply_lands_every_write_exactly_once(store_path):
    """With the sandbox answering 429 to most requests, every write still lands exactly once."""
    with site("server", store_path) as (app, settings):
        def storm(point, write):
            app.set_faults(rate_limit=4)  # from the first write on: 4 requests a second

        report = run(settings, fault=storm)
        app.set_faults(rate_limit=None)
        assert report.exit_code == 0
        assert app.stats()["by_status"].get("429", 0) > 0
        assert labels(app) == EXPECTED_LABELS and markers(app) == EXPECTED_COMMENTS
        for issue in app.state.issues.values():  # each label change recorded once
            assert sum(1 for h in issue.histories for item in h.items
                       if item[0] == "labels") <= 1, issue.key


@pytest.mark.parametrize("flavor", FLAVORS)
def test_dry_run_plan_is_what_the_real_run_then_does(flavor, store_path):
    """`run --dry-run` writes nothing, and the next real run performs exactly its plan."""
    with site(flavor, store_path) as (app, settings):
        dry = run(settings, dry_run=True)
        assert writes(app) == 0 and labels(app)["ABC-1"] == ["backend"]
        real = run(settings)
        assert dry.writeback.plan.lines() == real.writeback.plan.lines()
        performed = [line for w in real.writeback.outcome.done for line in w.describe()]
        assert performed == dry.writeback.plan.lines()


def test_a_second_run_while_the_lock_is_held_does_nothing(store_path):
    """While another run holds the store's lock, run raises LockBusy (exit 0) and writes nothing."""
    with site("cloud", store_path) as (app, settings):
        with run_lock(settings.store, "busy", ""):
            with pytest.raises(LockBusy) as busy:
                run(settings)
        assert busy.value.exit_code == 0 and app.stats()["total"] == 0


def test_json_log_has_one_event_per_stage_and_write_and_no_secret(tmp_path, store_path):
    """The JSON-lines log holds run-start, sync, evaluate, each write and run-end, no token."""
    log = tmp_path / "runs.jsonl"
    with site("cloud", store_path) as (app, settings):
        run(settings, log_json=log)
    text = log.read_text()
    events = [json.loads(line) for line in text.splitlines()]
    kinds = [e["event"] for e in events]
    assert kinds[:3] == ["run-start", "sync", "evaluate"] and kinds[-1] == "run-end"
    assert kinds.count("write") == 7  # 4 label writes (ABC-4: a removal) + 3 comments
    assert events[-1]["outcome"] == "ok" and len({e["run_id"] for e in events}) == 1
    assert "sandbox-token" not in text


@pytest.mark.parametrize("flavor", FLAVORS)
def test_silent_edits_refused_fall_back_to_notifying_and_say_so_once(flavor, store_path):
    """A non-admin user with notify_users = false gets its labels written, and one notice."""
    with site(flavor, store_path, user="dev", writeback={"notify_users": False}) as (app, settings):
        report = run(settings)
        assert report.exit_code == 0
        notices = report.writeback.outcome.notices
        assert len(notices) == 1 and "notify_users = false" in notices[0]
        assert labels(app) == EXPECTED_LABELS


@pytest.mark.parametrize("flavor", FLAVORS)
def test_on_change_comment_is_edited_in_place_then_marked_resolved(flavor, tmp_path, store_path):
    """With policy on-change, a changed finding edits its one comment, and clearing it says so."""
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "od.toml").write_text(
        '[[rule]]\nid = "OD001"\ncheck = "version_overdue"\nseverity = "high"\n'
        'comment_policy = "on-change"\n[rule.params]\ngrace_days = 0\n', encoding="utf-8")
    with site(flavor, store_path, rules={"paths": [str(rules)]}) as (app, settings):
        run(settings)
        first = [c.body for c in app.state.get_issue("ABC-1").comments]
        app.release_version("ABC", "1.0", released=False, release_date=_day(-20))
        run(settings)
        edited = [c.body for c in app.state.get_issue("ABC-1").comments]
        assert len(edited) == 1 and edited != first
        app.release_version("ABC", "1.0")
        run(settings)
        (resolved,) = [c.body for c in app.state.get_issue("ABC-1").comments]
        text = resolved if isinstance(resolved, str) else json.dumps(resolved)
        assert "Resolved: this issue no longer needs the label pm-overdue" in text
        assert "[jira-pm OD001" in text.replace("\\", "")
        assert labels(app)["ABC-1"] == ["backend"]
        before = writes(app)
        run(settings)
        assert writes(app) == before


@pytest.mark.parametrize("flavor", FLAVORS)
def test_on_change_comments_adopted_into_a_fresh_store_are_not_edited_again(flavor, tmp_path,
                                                                          store_path):
    """A rebuilt store adopts its on-change comments by marker; the next run sends zero writes."""
    rules = tmp_path / "rules"
    rules.mkdir()
    for pack in resources.files("jira_pm.rules").iterdir():  # the built-in pack, on-change
        if pack.name.endswith(".toml"):
            text = pack.read_text(encoding="utf-8")
            (rules / pack.name).write_text(text.replace('comment_policy = "once"',
                                                        'comment_policy = "on-change"'),
                                           encoding="utf-8")
    with site(flavor, store_path, rules={"paths": [str(rules)]}) as (app, settings):
        assert run(settings).exit_code == 0
        assert markers(app) == EXPECTED_COMMENTS
        fresh = settings_for(app, store_path.with_name("rebuilt.sqlite"),
                             rules={"paths": [str(rules)]})
        first = run(fresh)  # a full sync into an empty store: every comment found by marker
        assert first.exit_code == 0 and first.writeback.plan.writes == []
        assert first.writeback.outcome.adopted == 3
        before = writes(app)
        second = run(fresh)
        assert second.writeback.plan.writes == [] and writes(app) == before
        assert markers(app) == EXPECTED_COMMENTS
