"""Concurrent write-back: issues in parallel, each issue's writes in order, one pause on a 429."""

from __future__ import annotations

import functools
import threading

import pytest
from test_writeback_apply import FakeJira, apply, finding, store_with

from jira_pm.jira.http import RetryWait
from jira_pm.store import ledger
from jira_pm.writeback import from_store
from jira_pm.writeback.failures import (
    DENIED_ANSWER,
    SEND,
    SKIP,
    WAIT,
    WENT_THROUGH,
    ProjectGate,
)
from jira_pm.writeback.workers import SharedPause


class CountingJira(FakeJira):
    """A fake Jira that notes how many writes are in flight at once, overall and per issue."""

    def __init__(self, labels, meet: int = 0):
        super().__init__(labels)
        self.lock = threading.Lock()
        self.now = 0
        self.most = 0
        self.per_issue: dict[int, int] = {}
        self.clash = False
        # The first ``meet`` label writes after issue 1's wait for each other: only concurrent
        # writes get past. (Until a project's first write went through, fewer go at once.)
        self.barrier = threading.Barrier(meet, timeout=2) if meet else None
        self.meet_left = meet

    def _enter(self, issue_id):
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
            self.per_issue[issue_id] = self.per_issue.get(issue_id, 0) + 1
            self.clash = self.clash or self.per_issue[issue_id] > 1

    def _leave(self, issue_id):
        with self.lock:
            self.now -= 1
            self.per_issue[issue_id] -= 1

    def edit_labels(self, issue_id, add, remove, notify_users=True):
        self._enter(issue_id)
        try:
            with self.lock:
                meet = issue_id != 1 and self.meet_left > 0
                self.meet_left -= meet
            if meet:
                self.barrier.wait()  # sent one at a time, this times out and fails the write
            return super().edit_labels(issue_id, add, remove, notify_users)
        finally:
            self._leave(issue_id)

    def add_comment(self, issue_id, body):
        self._enter(issue_id)
        try:
            return super().add_comment(issue_id, body)
        finally:
            self._leave(issue_id)


def many(store_path, count):
    ids = list(range(1, count + 1))
    return store_with(store_path, {i: [] for i in ids}), ids


def test_writes_to_different_issues_go_out_together(store_path):
    """With max_parallel 4, writes to four issues are in flight at the same time."""
    conn, ids = many(store_path, 8)
    jira = CountingJira({i: [] for i in ids}, meet=4)
    result = apply(conn, jira, [finding(issues=ids)], cfg=_parallel(4))
    assert result.exit_code == 0 and jira.most >= 4
    assert all(jira.marker_count(i) == 1 for i in ids)


def test_max_parallel_1_sends_one_write_at_a_time(store_path):
    """max_parallel 1 is today's sequential apply: never two writes in flight."""
    conn, ids = many(store_path, 6)
    jira = CountingJira({i: [] for i in ids})
    result = apply(conn, jira, [finding(issues=ids)], cfg=_parallel(1))
    assert result.exit_code == 0 and jira.most == 1


def test_each_issues_writes_go_in_order_and_never_together(store_path):
    """Per issue: labels, then the comment, then its property, one at a time; ledger in order."""
    conn, ids = many(store_path, 12)
    jira = CountingJira({i: [] for i in ids})
    findings = [finding(issues=ids), finding("SC001", "e" * 32, ids[::2], "pm-scope-creep")]
    result = apply(conn, jira, findings, cfg=_parallel(4))
    assert result.exit_code == 0 and not jira.clash
    for issue_id in ids:
        kinds = [w[0] for w in jira.writes if w[1] == issue_id or
                 (w[0] == "property" and _comment_issue(jira, w[1]) == issue_id)]
        assert kinds[0] == "labels" and kinds.count("comment") == (2 if issue_id % 2 else 1)
        assert kinds[1:] == ["comment", "property"] * kinds.count("comment")
    rows = [(r.issue_key, r.operation) for r in ledger.entries(conn)]
    for issue_id in ids:
        mine = [op for key, op in rows if key == f"ABC-{issue_id}"]
        assert mine[0] == "labels" and mine[1:3] == ["comment", "comment-property"]
    # The summary lists the writes in plan order, whatever order Jira answered in.
    assert [(w.issue_key, w.operation) for w in result.outcome.done] == [
        (w.issue_key, w.operation) for w in result.plan.writes]


def _comment_issue(jira, comment_id):
    return next(i for i, comments in jira.comment_list.items()
                if any(c["id"] == comment_id for c in comments))


def _parallel(count):
    from jira_pm.config import Settings

    return Settings.for_tests(projects=["ABC"], jira={"max_parallel": count})


def fake_pause() -> tuple[SharedPause, list[float], list[float]]:
    """A SharedPause on a fake clock that moves only when it sleeps; its sleeps; the clock."""
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    return SharedPause(clock=lambda: now[0], sleep=sleep), slept, now


def test_a_429_pauses_every_worker_for_its_wait():
    """A 429 met by one worker holds the others back for as long as its Retry-After."""
    pause, slept, now = fake_pause()
    pause.wait()
    assert slept == []  # no 429 yet: no pause
    pause.observe(RetryWait("PUT", "/rest/api/2/issue/1", 7.0, 1, "Jira answered 503", 503))
    pause.wait()
    assert slept == []  # a 503 is the one request's business
    pause.observe(RetryWait("PUT", "/rest/api/2/issue/1", 7.0, 1, "Jira answered 429", 429))
    now[0] += 2
    pause.wait()
    assert slept == [5.0]


def test_a_429_scoped_to_one_issue_or_endpoint_pauses_no_other_worker():
    """Cloud's per-issue and burst refusals hold back their own scope only, not every worker."""
    pause, slept, _ = fake_pause()
    for scope in ("issue 10001", "endpoint PUT /rest/api/3/issue/{id}"):
        pause.observe(RetryWait("PUT", "/rest/api/3/issue/10001", 30.0, 1, "Jira answered 429",
                                429, scope, "jira-per-issue-on-write"))
    pause.wait()
    assert slept == []
    pause.observe(RetryWait("PUT", "/rest/api/3/issue/10001", 30.0, 1, "Jira answered 429",
                            429, "everything", "jira-quota-tenant-based"))
    pause.wait()
    assert slept == [30.0]


def test_a_429_on_one_write_delays_the_next_writes_of_every_issue(store_path, monkeypatch):
    """The Applier feeds the client's retry waits to the pause: after a 429, others wait too."""
    conn, ids = many(store_path, 3)
    jira = FakeJira({i: [] for i in ids})
    observers = []

    class Http:
        def add_wait_observer(self, observer):
            observers.append(observer)

        def remove_wait_observer(self, observer):
            observers.remove(observer)

    jira.http = Http()
    original = jira.edit_labels

    def edit_labels(issue_id, add, remove, notify_users=True):
        if issue_id == 1:  # the HTTP layer met a 429 here and told its observers
            for observer in list(observers):
                observer(RetryWait("PUT", "/rest/api/2/issue/1", 30.0, 1, "Jira answered 429",
                                   429))
        return original(issue_id, add, remove, notify_users)

    jira.edit_labels = edit_labels
    slept: list[float] = []
    pause = SharedPause(clock=lambda: 0.0 if not slept else 31.0, sleep=slept.append)
    monkeypatch.setattr(from_store, "Applier", functools.partial(from_store.Applier, pause=pause))
    result = apply(conn, jira, [finding(issues=ids, policy="never")], cfg=_parallel(1))
    assert result.exit_code == 0 and slept == [30.0] and observers == []


def test_the_project_gate_counts_refusals_in_plan_order_not_answer_order():
    """Five refusals in a row in plan order give a project up; a success between them resets it."""
    gate = ProjectGate(["PAY-1", "PAY-2", "PAY-3", "PAY-4", "PAY-5", "PAY-6", "PAY-7"])
    assert [gate.decide(i) for i in range(5)] == [SEND] * 5
    assert gate.decide(5) == WAIT  # five unanswered before it could all be refusals
    for index in (4, 3, 1, 2):
        gate.answered(index, DENIED_ANSWER)
    assert gate.decide(5) == WAIT
    gate.answered(0, WENT_THROUGH)  # answered last, but first in plan order: a row of 4
    assert gate.decide(5) == SEND
    gate.answered(5, DENIED_ANSWER)
    assert gate.skipped == {"PAY": 0}  # the fifth refusal in a row
    assert gate.decide(6) == SKIP and gate.skipped == {"PAY": 1}


def test_marker_searches_before_the_writes_go_out_together(store_path):
    """The plan's marker searches (one comment read per issue) run max_parallel at a time."""
    conn, ids = many(store_path, 6)
    jira = FakeJira({i: [] for i in ids})
    barrier = threading.Barrier(3, timeout=2)  # read one at a time, this breaks the plan
    original = jira.comments

    def comments(issue_id):
        if issue_id <= 3:
            barrier.wait()
        return original(issue_id)

    jira.comments = comments
    result = apply(conn, jira, [finding(issues=ids)], cfg=_parallel(4), dry_run=True)
    assert len(result.plan.writes) == 12 and jira.reads == 6


def test_closing_the_ledger_desk_keeps_the_workers_finished_events():
    """A kill closes the desk: waiting ledger calls fail, but finished writes still count down."""
    from concurrent.futures import Future

    from jira_pm.writeback.workers import LedgerDesk, Stopped, _Finished, _LedgerCall

    desk = LedgerDesk()
    finished = _Finished(1, "done", None)
    call = _LedgerCall(lambda: None, Future())
    desk.events.put(finished)
    desk.events.put(call)
    desk.close()
    assert isinstance(call.answer.exception(timeout=0), Stopped)
    assert desk.events.get_nowait() is finished


def test_ctrl_c_during_parallel_writes_stops_a_worker_waiting_to_retry(store_path):
    """Ctrl-C while a worker waits to retry a 503: it wakes at once and never sends its write."""
    import time

    import responses

    from jira_pm.jira.http import JiraHttp

    base = "https://jira.example.test"

    class RetryingJira(FakeJira):
        """Issue 2's label write goes through a real HTTP client that Jira answers 503."""

        def __init__(self, labels):
            super().__init__(labels)
            self.http = JiraHttp(base, max_retry_seconds=300)

        def edit_labels(self, issue_id, add, remove, notify_users=True):
            if issue_id == 2:
                return self.http.put("/rest/api/2/issue/2", {"update": {}})
            return super().edit_labels(issue_id, add, remove, notify_users)

    class CtrlC:
        """A progress display whose first advance is the user's Ctrl-C."""

        def start(self, total):
            pass

        def advance(self, count=1):
            raise KeyboardInterrupt

        def finish(self):
            pass

    conn, ids = many(store_path, 2)
    jira = RetryingJira({i: [] for i in ids})
    with responses.RequestsMock() as mock:
        mock.put(f"{base}/rest/api/2/issue/2", status=503, headers={"Retry-After": "60"},
                 json={})
        waiting = threading.Event()
        jira.http.add_wait_observer(lambda wait: waiting.set())
        original = FakeJira.edit_labels

        def slow_first(self, issue_id, add, remove, notify_users=True):
            waiting.wait(timeout=30)  # issue 1 answers once issue 2 waits to retry
            return original(self, issue_id, add, remove, notify_users)

        started = time.monotonic()
        FakeJira.edit_labels = slow_first
        try:
            with pytest.raises(KeyboardInterrupt):
                apply(conn, jira, [finding(issues=ids)], cfg=_parallel(2),
                      progress=CtrlC())
        finally:
            FakeJira.edit_labels = original
        writers = [t for t in threading.enumerate() if t.name.startswith("jira-pm-write")]
        for thread in writers:
            thread.join(timeout=10)
        assert not any(t.is_alive() for t in writers)
        assert time.monotonic() - started < 20
        assert len(mock.calls) == 1  # the first 503; the retry was never sent
        # The same client (the Python API keeps it) writes again in the next apply.
        mock.replace(responses.PUT, f"{base}/rest/api/2/issue/2", status=204)
        assert apply(conn, jira, [finding(issues=ids)], cfg=_parallel(2)).exit_code == 0
        assert len(mock.calls) == 2
    conn.close()


def test_sync_apply_and_clean_resume_a_client_a_ctrl_c_stopped(store_path):
    """A client stopped by Ctrl-C sends again from the next sync, apply or clean (Python API)."""
    from jira_pm.jira.http import JiraHttp
    from jira_pm.sync import sync
    from jira_pm.writeback.clean import clean_from_store

    conn, ids = many(store_path, 2)
    jira = FakeJira({i: [] for i in ids})
    jira.http = JiraHttp("https://jira.example.test")
    jira.search = lambda *args, **kwargs: iter(())  # a site whose search finds nothing
    jira.search_ids = lambda jql: iter(())
    jira.approximate_count = lambda jql: 0
    starts = {
        "sync": lambda: sync(_parallel(2), conn, jira),
        "apply": lambda: apply(conn, jira, [finding(issues=ids)], cfg=_parallel(2),
                               dry_run=True),
        "clean": lambda: clean_from_store(conn, jira, _parallel(2), "r-clean",
                                          pack_labels=["pm-overdue"], dry_run=True),
    }
    for name, start in starts.items():
        jira.http.stop()
        try:
            start()
        except Exception:  # noqa: BLE001 - only whether it resumed the client matters here
            pass
        assert not jira.http.stopped, name
    conn.close()
