"""Applying a plan through a fake Jira client: ledger, crash safety, refusals, bounds, dry run."""

from __future__ import annotations

import json

import pytest

from jira_pm.config import Settings
from jira_pm.errors import (
    AmbiguousWriteError,
    JiraAuthError,
    JiraBadRequest,
    JiraNotFound,
    JiraPermissionError,
)
from jira_pm.jira.format import find_markers
from jira_pm.model import Finding
from jira_pm.rulepack import load_pack
from jira_pm.store import ledger
from jira_pm.store.schema import connect
from jira_pm.writeback.from_store import apply_from_store


class FakeJira:
    """An in-memory Jira that keeps labels and comments and counts every request."""

    def __init__(self, labels: dict[int, list[str]], cloud: bool = False):
        self.labels = {k: list(v) for k, v in labels.items()}
        self.comment_list: dict[int, list[dict]] = {k: [] for k in labels}
        self.properties: dict[str, dict] = {}
        self.writes: list[tuple] = []
        self.reads = 0
        self.is_cloud = cloud
        self.refuse: set[int] = set()
        self.refuse_silent = False
        self.refuse_401 = False  # refused writes answer 401 (a Cloud token without write scope)
        self.ambiguous: str | None = None  # "landed" or "lost": the next POST's fate
        self.posts_503 = 0  # this many next POSTs are answered 503 and not processed
        self.post_attempts = 0
        self.unreadable: dict[int, Exception] = {}  # issue id -> error of GET its comments
        self.no_property_endpoint = False
        self.property_reads = 0
        self._next_id = 100

    def edit_labels(self, issue_id, add, remove, notify_users=True):
        if issue_id in self.refuse:
            if self.refuse_401:
                raise JiraAuthError("Jira refused the credentials (401: scope does not match)",
                                    status=401)
            raise JiraPermissionError("you may not edit ABC", status=403)
        if not notify_users and self.refuse_silent:
            raise JiraBadRequest("To discard the user notification admin rights are required",
                                 status=400)
        self.writes.append(("labels", issue_id, tuple(add), tuple(remove), notify_users))
        current = [x for x in self.labels[issue_id] if x not in remove]
        self.labels[issue_id] = current + [x for x in add if x not in current]

    def comments(self, issue_id):
        self.reads += 1
        if issue_id in self.unreadable:
            raise self.unreadable[issue_id]
        return [dict(c) for c in self.comment_list[issue_id]]

    def add_comment(self, issue_id, body):
        if issue_id in self.refuse:
            raise JiraPermissionError("you may not comment", status=403)
        self.post_attempts += 1
        if self.posts_503:
            self.posts_503 -= 1
            raise AmbiguousWriteError("POST got 503 from Jira", status=503)
        fate, self.ambiguous = self.ambiguous, None
        if fate != "lost":
            self._next_id += 1
            self.comment_list[issue_id].append({"id": str(self._next_id), "body": body})
            self.writes.append(("comment", issue_id))
        if fate:
            raise AmbiguousWriteError("connection dropped during POST")
        return {"id": str(self._next_id)}

    def update_comment(self, issue_id, comment_id, body, notify_users=True):
        if not notify_users and self.refuse_silent:
            raise JiraPermissionError("To discard the user notification admin rights are "
                                      "required", status=403)
        for comment in self.comment_list[issue_id]:
            if comment["id"] == comment_id:
                self.writes.append(("edit", issue_id, comment_id, notify_users))
                comment["body"] = body
                return {"id": comment_id}
        raise JiraNotFound("Can not find a comment for the id", status=404)

    def set_comment_property(self, comment_id, key, value):
        if self.no_property_endpoint:
            raise JiraNotFound(f"PUT /rest/api/2/comment/{comment_id}/properties/{key}: "
                               "not found (404)", status=404)
        self.writes.append(("property", comment_id))
        self.properties[comment_id] = value

    def get_comment_property(self, comment_id, key):
        self.property_reads += 1
        return self.properties.get(comment_id)

    def marker_count(self, issue_id):
        return sum(len(find_markers(c["body"])) for c in self.comment_list[issue_id])


class Crash(BaseException):
    """Stands in for a kill: nothing after it runs, committed ledger rows stay."""


ISSUES = {1: ["frontend", "pm-at-risk"], 2: [], 3: ["pm-ignore", "pm-overdue"]}


def store_with(path, labels):
    conn = connect(path)
    for issue_id, issue_labels in labels.items():
        conn.execute(
            "INSERT INTO issues (id, key, project_key, issue_type, status, status_category,"
            " created, updated, labels, raw, synced_at) VALUES (?, ?, 'ABC', 'Task', 'Open', 'new',"
            " '2026-11-01T00:00:00+00:00', '2026-11-01T00:00:00+00:00', ?, '{}',"
            " '2026-11-21T00:00:00+00:00')",
            (issue_id, f"ABC-{issue_id}", json.dumps(issue_labels)),
        )
    return conn


def finding(rule="OD001", fp="f" * 32, issues=(1, 2, 3), label="pm-overdue", severity="high",
            policy="once", message="version 1.4 is 3 days late"):
    return Finding(rule, "overdue", "version", "10", "1.4", "ABC", severity, message,
                   {"days_late": 3}, tuple(issues), label, policy, fp)


def settings(**writeback):
    return Settings.for_tests(projects=["ABC"], writeback=writeback)


# The built-in pack's labels: what jira-pm owns before its ledger shows anything.
PACK_LABELS = load_pack().owned_labels()


def apply(conn, jira, findings, **kw):
    cfg = kw.pop("cfg", None) or settings()
    owned = kw.pop("owned", PACK_LABELS)
    return apply_from_store(conn, jira, cfg, findings=findings, owned_labels=owned, **kw)


@pytest.fixture
def conn(store_path):
    conn = store_with(store_path, ISSUES)
    yield conn
    conn.close()


def test_apply_writes_labels_and_one_comment_per_issue_and_records_them(conn):
    """Labels and comments land, pm-ignore issues are untouched, and the ledger has each write."""
    jira = FakeJira(ISSUES)
    result = apply(conn, jira, [finding()])
    assert result.exit_code == 0
    assert jira.labels == {1: ["frontend", "pm-overdue"], 2: ["pm-overdue"],
                           3: ["pm-ignore", "pm-overdue"]}
    assert [jira.marker_count(i) for i in (1, 2, 3)] == [1, 1, 0]
    rows = ledger.entries(conn, result.outcome.run_id)
    assert {(r.issue_key, r.operation, r.status) for r in rows} == {
        ("ABC-1", "labels", "done"), ("ABC-2", "labels", "done"), ("ABC-1", "comment", "done"),
        ("ABC-2", "comment", "done"), ("ABC-1", "comment-property", "done"),
        ("ABC-2", "comment-property", "done")}
    stored = json.loads(conn.execute("SELECT labels FROM issues WHERE id = 1").fetchone()[0])
    assert stored == ["frontend", "pm-overdue"]


def test_second_apply_with_nothing_changed_writes_and_reads_nothing(conn):
    """A rerun after a complete apply plans nothing and sends no request at all."""
    jira = FakeJira(ISSUES)
    apply(conn, jira, [finding()])
    writes, reads = len(jira.writes), jira.reads
    again = apply(conn, jira, [finding()])
    assert again.plan.writes == [] and len(jira.writes) == writes and jira.reads == reads


def test_wiki_bodies_on_server_and_adf_on_cloud(store_path):
    """Comment bodies are wiki strings for Data Center and ADF documents for Cloud."""
    for cloud, kind in ((False, str), (True, dict)):
        conn = store_with(store_path.with_name(f"{cloud}.sqlite"), {2: []})
        jira = FakeJira({2: []}, cloud=cloud)
        apply(conn, jira, [finding(issues=(2,))])
        assert isinstance(jira.comment_list[2][0]["body"], kind)


@pytest.mark.parametrize("point", ["before-request", "after-request"])
def test_a_crash_around_any_write_never_duplicates_or_loses_anything(conn, point):
    """Killed before or after each request in turn, reruns end with one comment and every label."""
    jira = FakeJira(ISSUES)
    crashes = 0
    for crash_at in range(10):
        seen = []

        def fault(where, write, seen=seen, crash_at=crash_at):
            if where == point:
                seen.append(write)
                if len(seen) == crash_at + 1:
                    raise Crash

        try:
            apply(conn, jira, [finding()], fault=fault)
        except Crash:
            crashes += 1
            continue
        break
    else:
        pytest.fail("apply never completed within 10 attempts")
    # The hook really fired: the first attempts each died around a write (a rerun's
    # plan is shorter, so fewer attempts crash than the first plan had writes).
    assert crashes >= 2
    final = apply(conn, jira, [finding()])
    assert final.plan.writes == []
    assert [jira.marker_count(i) for i in (1, 2, 3)] == [1, 1, 0]
    assert jira.labels[1] == ["frontend", "pm-overdue"] and jira.labels[2] == ["pm-overdue"]


def test_comment_already_on_the_issue_is_adopted_not_posted_again(store_path, conn):
    """With a lost store, a comment found by its marker is recorded, not posted a second time."""
    jira = FakeJira(ISSUES)
    apply(conn, jira, [finding()])
    posts = [w for w in jira.writes if w[0] == "comment"]
    fresh = store_with(store_path.with_name("lost.sqlite"), jira.labels)
    result = apply(fresh, jira, [finding()])
    assert [w for w in jira.writes if w[0] == "comment"] == posts
    assert result.outcome.adopted == 2
    assert {r.detail for r in ledger.entries(fresh)} == {
        "found on the issue by its marker; not posted again"}


def test_ambiguous_post_that_landed_is_found_and_recorded_done(store_path):
    """An AmbiguousWriteError whose comment did land is found by marker and counted done."""
    conn = store_with(store_path, {2: []})
    jira = FakeJira({2: []})
    jira.ambiguous = "landed"
    result = apply(conn, jira, [finding(issues=(2,))])
    assert result.exit_code == 0 and jira.marker_count(2) == 1
    assert apply(conn, jira, [finding(issues=(2,))]).plan.writes == []


def test_ambiguous_post_that_was_lost_fails_now_and_posts_once_next_run(store_path):
    """An ambiguous POST that did not land fails this run and is posted once next run."""
    conn = store_with(store_path, {2: []})
    jira = FakeJira({2: []})
    jira.ambiguous = "lost"
    first = apply(conn, jira, [finding(issues=(2,))])
    assert first.exit_code == 4 and jira.marker_count(2) == 0
    second = apply(conn, jira, [finding(issues=(2,))])
    assert second.exit_code == 0 and jira.marker_count(2) == 1


def test_refused_issue_is_recorded_and_the_run_goes_on_with_exit_4(conn):
    """A 403 on one issue is reported and recorded failed; the other issue is still written."""
    jira = FakeJira(ISSUES)
    jira.refuse = {1}
    result = apply(conn, jira, [finding()])
    assert result.exit_code == 4
    assert {(f.issue_key, f.http_status) for f in result.outcome.failed} == {
        ("ABC-1", 403)}
    assert jira.labels[1] == ["frontend", "pm-at-risk"] and jira.labels[2] == ["pm-overdue"]
    failed = [r for r in ledger.entries(conn) if r.status == "failed"]
    assert {(r.issue_key, r.http_status) for r in failed} == {("ABC-1", 403)}


def test_notify_users_false_falls_back_once_and_says_so_once(conn):
    """When Jira refuses silent edits, the write is retried with notifications and said once."""
    jira = FakeJira(ISSUES)
    jira.refuse_silent = True
    result = apply(conn, jira, [finding(policy="never")], cfg=settings(notify_users=False))
    assert result.exit_code == 0
    assert [w[4] for w in jira.writes if w[0] == "labels"] == [True, True]
    assert len(result.outcome.notices) == 1 and "notify_users" in result.outcome.notices[0]


def test_max_writes_defers_the_least_severe_to_the_next_run(store_path):
    """With max_writes 2 the critical finding's writes go first; the next run does the rest."""
    conn = store_with(store_path, {1: [], 2: []})
    jira = FakeJira({1: [], 2: []})
    findings = [finding("BU001", "b" * 32, (1,), "pm-budget-warning", "low"),
                finding("OD001", "c" * 32, (2,), "pm-overdue", "critical")]
    cfg = settings(max_writes=2)
    first = apply(conn, jira, findings, cfg=cfg)
    assert [(w.issue_key, w.operation) for w in first.plan.writes] == [
        ("ABC-2", "labels"), ("ABC-2", "comment")]
    assert first.outcome.deferred == 2 and jira.labels[1] == []
    second = apply(conn, jira, findings, cfg=cfg)
    assert [(w.issue_key, w.operation) for w in second.plan.writes] == [
        ("ABC-1", "labels"), ("ABC-1", "comment")]
    assert apply(conn, jira, findings, cfg=cfg).plan.writes == []


def test_dry_run_writes_nothing_and_its_plan_is_what_the_real_run_does(conn):
    """A dry run sends no write and stores nothing; the real run then performs its exact plan."""
    jira = FakeJira(ISSUES)
    dry = apply(conn, jira, [finding()], dry_run=True)
    assert jira.writes == [] and ledger.entries(conn) == []
    real = apply(conn, jira, [finding()])
    assert dry.plan.lines() == real.plan.lines()
    done = [(w.issue_key, w.operation) for w in real.outcome.done]
    assert done == [(w.issue_key, w.operation) for w in dry.plan.writes]


def test_on_change_comment_is_edited_in_place_and_marked_resolved(store_path):
    """An on-change comment is edited when the message changes and when the finding clears."""
    conn = store_with(store_path, {2: []})
    jira = FakeJira({2: []})
    apply(conn, jira, [finding(issues=(2,), policy="on-change")])
    apply(conn, jira, [finding(issues=(2,), policy="on-change", message="5 days late")])
    assert len(jira.comment_list[2]) == 1 and "5 days late" in jira.comment_list[2][0]["body"]
    conn.execute(
        "INSERT INTO findings (fingerprint, rule_id, check_name, subject_type, subject_id,"
        " subject_name, severity, message, evidence, issue_ids, label, comment_policy,"
        " first_seen, last_seen, resolved_at) VALUES (?, 'OD001', 'overdue', 'version', '10',"
        " '1.4', 'high', '5 days late', '{}', '[2]', 'pm-overdue', 'on-change', 'x', 'x', 'x')",
        ("f" * 32,),
    )
    apply(conn, jira, [])
    assert jira.labels[2] == [] and len(jira.comment_list[2]) == 1
    assert jira.comment_list[2][0]["body"].startswith(
        "*Resolved: this issue no longer needs the label pm-overdue.*")
    writes = len(jira.writes)
    apply(conn, jira, [])
    assert len(jira.writes) == writes


def test_issues_of_a_project_outside_the_scope_are_never_written(store_path):
    """A stored issue of a project no longer in [scope] keeps its labels: nothing is written."""
    conn = store_with(store_path, {1: ["pm-overdue"]})
    conn.execute("UPDATE issues SET project_key = 'OLD', key = 'OLD-1' WHERE id = 1")
    jira = FakeJira({1: ["pm-overdue"]})
    result = apply(conn, jira, [])
    assert result.plan.writes == [] and jira.writes == []


def test_on_change_comment_deleted_by_a_person_is_not_posted_again(store_path):
    """An edit of a comment a person deleted is a notice, posts nothing, and is not retried."""
    conn = store_with(store_path, {2: []})
    jira = FakeJira({2: []})
    apply(conn, jira, [finding(issues=(2,), policy="on-change")])
    jira.comment_list[2].clear()
    changed = [finding(issues=(2,), policy="on-change", message="6 days late")]
    result = apply(conn, jira, changed)
    assert result.exit_code == 0 and jira.comment_list[2] == []
    assert "was deleted in Jira" in result.outcome.notices[0]
    assert apply(conn, jira, changed).plan.writes == []


@pytest.mark.parametrize("cloud", [False, True])
def test_on_change_comments_adopted_into_a_fresh_store_then_zero_writes(store_path, cloud):
    """A lost store adopts on-change comments saying the current text; a rerun writes nothing."""
    jira = FakeJira(ISSUES, cloud=cloud)
    old = store_with(store_path, ISSUES)
    apply(old, jira, [finding(policy="on-change")])
    old.close()
    fresh = store_with(store_path.with_name("fresh.sqlite"), jira.labels)
    writes = len(jira.writes)
    first = apply(fresh, jira, [finding(policy="on-change")])
    assert first.plan.writes == [] and first.outcome.adopted == 2 and len(jira.writes) == writes
    again = apply(fresh, jira, [finding(policy="on-change")])
    assert again.plan.writes == [] and len(jira.writes) == writes


def test_on_change_comment_adopted_with_outdated_text_is_edited_once(store_path):
    """A comment found by marker that says an older text is edited in that run, then left alone."""
    jira = FakeJira({2: []})
    old = store_with(store_path, {2: []})
    apply(old, jira, [finding(issues=(2,), policy="on-change")])
    old.close()
    fresh = store_with(store_path.with_name("fresh.sqlite"), jira.labels)
    changed = [finding(issues=(2,), policy="on-change", message="9 days late")]
    first = apply(fresh, jira, changed)
    assert [w.operation for w in first.plan.writes] == ["edit-comment"]
    assert len(jira.comment_list[2]) == 1 and "9 days late" in jira.comment_list[2][0]["body"]
    writes = len(jira.writes)
    assert apply(fresh, jira, changed).plan.writes == [] and len(jira.writes) == writes


def test_says_compares_the_text_not_jiras_encoding_of_it():
    """A body matches its rendering despite re-split ADF text nodes or reflowed wiki lines."""
    from jira_pm.jira.format import Bullets, CommentText, IssueLink, Paragraph, to_adf, to_wiki
    from jira_pm.writeback.apply import says

    rest = (Bullets((("added ", IssueLink("S-1", "https://x.test/browse/S-1"), " 5 {x}"),)),
            Paragraph(("Fix it_now",)))
    text = CommentText((Paragraph(("Sprint [S-1] is *late*",), strong=True), *rest),
                       "[jira-pm SC001 abcdef123456]")
    adf = to_adf(text)
    headline = adf["content"][0]["content"][0]["text"]
    adf["content"][0]["content"] = [{"type": "text", "text": headline[:6]},
                                    {"type": "text", "text": headline[6:]}]
    assert says(adf, text) and says(to_wiki(text).replace("\n", "\r\n"), text)
    other = CommentText((Paragraph(("Sprint [S-1] is *very late*",), strong=True), *rest),
                        text.marker)
    assert not says(to_adf(other), text) and not says(to_wiki(other), text)
    assert not says(None, text)


def test_notify_users_false_reaches_comment_edits_and_falls_back_once(store_path):
    """Comment edits honour notify_users = false; refused, they notify and it is said once."""
    conn = store_with(store_path, {1: [], 2: []})
    jira = FakeJira({1: [], 2: []})
    quiet = settings(notify_users=False)
    apply(conn, jira, [finding(issues=(1, 2), policy="on-change")], cfg=quiet)
    changed = [finding(issues=(1, 2), policy="on-change", message="4 days late")]
    result = apply(conn, jira, changed, cfg=quiet)
    assert [w[3] for w in jira.writes if w[0] == "edit"] == [False, False]
    assert result.exit_code == 0 and result.outcome.notices == []
    jira.refuse_silent = True
    later = [finding(issues=(1, 2), policy="on-change", message="5 days late")]
    result = apply(conn, jira, later, cfg=quiet)
    assert result.exit_code == 0
    assert [w[3] for w in jira.writes if w[0] == "edit"][2:] == [True, True]
    assert len(result.outcome.notices) == 1 and "notify_users" in result.outcome.notices[0]
    assert all("5 days late" in jira.comment_list[i][0]["body"] for i in (1, 2))


def test_a_label_of_a_rule_since_removed_is_still_owned_through_the_ledger(conn):
    """A label jira-pm wrote for a rule no longer in the pack is removed; a person's is kept."""
    jira = FakeJira({1: ["pm-custom"], 2: [], 3: []})
    conn.execute("UPDATE issues SET labels = '[\"pm-custom\"]' WHERE id = 1")
    conn.execute("UPDATE issues SET labels = '[]' WHERE id = 3")
    apply(conn, jira, [finding("XX001", label="pm-legacy", policy="never", issues=(1,))],
          owned=PACK_LABELS | {"pm-legacy"})
    assert jira.labels[1] == ["pm-custom", "pm-legacy"]
    assert ledger.written_labels(conn) == {"pm-legacy"}
    apply(conn, jira, [], owned=PACK_LABELS)  # the rule (and its label) left the pack
    assert jira.labels[1] == ["pm-custom"]


def test_written_labels_skip_writes_jira_refused(store_path):
    """A labels write Jira refused with a 4xx owns nothing; a pending or done one does."""
    conn = connect(store_path)
    for label, status, http in (("+pm-a -pm-b", ledger.DONE, None),
                                ("+pm-c", ledger.PENDING, None),
                                ("+pm-d", ledger.FAILED, 403),
                                ("+pm-e", ledger.FAILED, 503)):
        entry = ledger.record_pending(conn, run_id="r", issue_id=1, issue_key="ABC-1",
                                      operation=ledger.OP_LABELS, label=label)
        if status != ledger.PENDING:
            ledger.record_result(conn, entry, status, http_status=http)
    assert ledger.written_labels(conn) == {"pm-a", "pm-c", "pm-e"}


class Declined(Exception):
    """What a confirm hook raises when the admin says no."""


def test_first_write_back_asks_first_and_a_no_writes_nothing(conn):
    """Before the first write-back the hook sees the plan; declining writes no request, no row."""
    jira = FakeJira(ISSUES)
    asked = []

    def decline(plan):
        asked.append(len(plan.writes))
        raise Declined

    with pytest.raises(Declined):
        apply(conn, jira, [finding()], confirm=decline)
    assert asked and jira.writes == [] and ledger.entries(conn) == []
    apply(conn, jira, [finding()], confirm=lambda plan: None)
    assert jira.writes
    later = apply(conn, jira, [finding(fp="e" * 32)], confirm=decline)  # the ledger has writes
    assert later.exit_code == 0 and len(asked) == 1
