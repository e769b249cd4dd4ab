"""The ledger: pending-before-request rows and what they say about jira-pm's comments."""

from __future__ import annotations

import json

from jira_pm.store import ledger
from jira_pm.store.schema import connect


def _comment(conn, status=None, operation=ledger.OP_COMMENT, **kw):
    entry = ledger.record_pending(conn, run_id="r1", issue_id=7, issue_key="ABC-7",
                                  operation=operation, rule_id="OD001", fingerprint="fp", **kw)
    if status:
        ledger.record_result(conn, entry, status, **({"comment_id": "55"}
                                                     if status == ledger.DONE else {}))
    return entry


def test_pending_row_is_committed_before_the_request(store_path):
    """A pending row is visible to another connection at once, as a kill would leave it."""
    conn = connect(store_path)
    _comment(conn, content_hash="h1")
    other = connect(store_path)
    assert [(e.status, e.content_hash) for e in ledger.entries(other)] == [("pending", "h1")]
    assert ledger.comment_records(other) == {("fp", 7): ledger.CommentRecord(None, "h1", "pending")}


def test_ledger_writes_join_an_outer_transaction_instead_of_committing_it(store_path):
    """Inside a caller's transaction a ledger write is rolled back with it, not committed early."""
    conn = connect(store_path)
    conn.execute("BEGIN IMMEDIATE")
    _comment(conn, status=ledger.DONE)
    assert conn.in_transaction
    conn.execute("ROLLBACK")
    assert ledger.entries(conn) == []


def test_done_comment_keeps_its_id_through_later_edits(store_path):
    """After a done POST and a done edit, the record has the POST's id and the edit's hash."""
    conn = connect(store_path)
    _comment(conn, ledger.DONE, content_hash="h1")
    _comment(conn, ledger.DONE, operation=ledger.OP_EDIT_COMMENT, content_hash="h2")
    assert ledger.comment_records(conn)[("fp", 7)] == ledger.CommentRecord("55", "h2", "done")


def test_failed_post_after_a_done_one_does_not_hide_the_comment(store_path):
    """A later pending or failed row never turns a proven comment back into an unknown one."""
    conn = connect(store_path)
    _comment(conn, ledger.DONE, content_hash="h1")
    _comment(conn, ledger.FAILED, content_hash="h9")
    assert ledger.comment_records(conn)[("fp", 7)].status == "done"


def test_edit_refused_with_404_stops_further_edits_of_that_text(store_path):
    """A 404 on an edit (comment deleted by a person) records the text as handled."""
    conn = connect(store_path)
    _comment(conn, ledger.DONE, content_hash="h1")
    entry = _comment(conn, operation=ledger.OP_EDIT_COMMENT, content_hash="h2", comment_id="55")
    ledger.record_result(conn, entry, ledger.FAILED, http_status=404)
    assert ledger.comment_records(conn)[("fp", 7)] == ledger.CommentRecord("55", "h2", "done")


def test_runs_are_recorded_with_outcome_and_summary(store_path):
    """start_run and finish_run leave one runs row with its outcome and JSON summary."""
    conn = connect(store_path)
    ledger.start_run(conn, "r1", "run")
    ledger.finish_run(conn, "r1", "ok", {"writes": 3})
    row = conn.execute("SELECT kind, outcome, summary, finished FROM runs").fetchone()
    assert (row["kind"], row["outcome"], json.loads(row["summary"])) == ("run", "ok", {"writes": 3})
    assert row["finished"]


def test_labels_text_lists_adds_then_removes():
    """A labels write is recorded as +added and -removed labels."""
    assert ledger.labels_text(["pm-a"], ["pm-b", "pm-c"]) == "+pm-a -pm-b -pm-c"


def test_runs_and_pending_rows_of_a_killed_run_are_closed_as_interrupted(store_path):
    """A run with no end and its pending rows are closed interrupted; the comment stays unknown."""
    conn = connect(store_path)
    ledger.start_run(conn, "r1", "run")
    _comment(conn, content_hash="h1")
    ledger.start_run(conn, "r0", "run")
    ledger.finish_run(conn, "r0", "ok", {})
    ledger.start_run(conn, "r2", "run")  # the run closing the others
    assert ledger.close_interrupted(conn, current_run_id="r2") == (1, 1)
    runs = {r["id"]: (r["outcome"], bool(r["finished"]))
            for r in conn.execute("SELECT id, outcome, finished FROM runs")}
    assert runs == {"r0": ("ok", True), "r1": ("interrupted", True), "r2": (None, False)}
    assert [e.status for e in ledger.entries(conn)] == ["interrupted"]
    # The POST's outcome is still unknown: the next plan searches for the marker first.
    assert ledger.comment_records(conn)[("fp", 7)] == ledger.CommentRecord(None, "h1", "pending")
    assert ledger.close_interrupted(conn, current_run_id="r2") == (0, 0)
    # It may have landed: the site has been written to (no first-write question again).
    assert ledger.has_written(conn)
