"""`jira-pm clean`: take back every label (and, asked, every comment) jira-pm wrote.

The undo a cautious admin asks for first. Labels: on every issue in scope (as
synced), the labels jira-pm owns — those the rule pack can produce and those
the ledger shows it wrote — are removed; a person's labels, the exempt label and
exempt issues are left alone, as in every run. Comments (``comments=True``):
those the ledger records as jira-pm's, plus those found on the issues by their
marker and written by jira-pm's own Jira user (a person quoting a marker keeps
their comment).

Clean goes through the same write path as apply: a ``pending`` ledger row before
each request, ``done`` after it, refusals recorded and reported. A rerun plans
only what is still there, so it is idempotent, and a kill loses nothing.

Clean is an undo, not a stop: while the rule pack still flags an issue, the
next run labels it again, and a comment clean deleted is forgotten by the
ledger so that run comments again. Nothing in the store switches write-back off.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from jira_pm.errors import JiraNotFound
from jira_pm.jira.format import find_markers
from jira_pm.jira.http import resume_sending
from jira_pm.store import ledger
from jira_pm.writeback.apply import REFUSED, Applier, Outcome
from jira_pm.writeback.from_store import WritebackResult, uses_adf
from jira_pm.writeback.plan import IssueState, LabelWrite, Plan, Policy, Reason, _key_order
from jira_pm.writeback.store_io import issues_in_scope, owned_labels, update_labels

WHY = "jira-pm clean"


@dataclass(frozen=True)
class CommentDeletion:
    """One ``DELETE /issue/{id}/comment/{id}`` of a comment jira-pm posted."""

    issue_id: int
    issue_key: str
    comment_id: str
    rule_id: str | None
    fingerprint: str | None
    why: str
    rank: int = -1

    operation = ledger.OP_DELETE_COMMENT

    def describe(self) -> list[tuple[str, str, str, str]]:
        """Plan lines: (issue, operation, rule, why)."""
        return [(self.issue_key, f"delete-comment {self.comment_id}", self.rule_id or "-",
                 self.why)]


def plan_clean(conn: sqlite3.Connection, client: Any, settings: Any,
               pack_labels: Iterable[str], *, comments: bool) -> Plan:
    """Every write clean makes now: label removals, then (``comments``) comment deletions.

    With ``comments`` the comments of every issue in scope are read (reads only,
    so a dry run does the same) and only comments still there are planned.
    """
    policy = Policy.from_settings(settings.writeback, owned_labels(conn, pack_labels))
    issues = issues_in_scope(conn, settings.scope.projects)
    plan = Plan()
    writable: list[IssueState] = []
    for issue in sorted(issues.values(), key=lambda i: _key_order(i.key)):
        owned = tuple(sorted(label for label in issue.labels if policy.owns(label)))
        why = policy.exemption(issue)
        if why:
            if owned:
                plan.skipped.append((issue.key, why))
            continue
        writable.append(issue)
        if owned:
            reasons = tuple(Reason(label, "remove", None, None, WHY) for label in owned)
            plan.writes.append(LabelWrite(issue.id, issue.key, (), owned, reasons, -1))
    if comments:
        plan.writes.extend(_comment_deletions(conn, client, writable, plan.skipped))
    return plan


def _comment_deletions(conn: sqlite3.Connection, client: Any, issues: Iterable[IssueState],
                       skipped: list[tuple[str, str]]) -> list[CommentDeletion]:
    """jira-pm's comments still on these issues: by ledger id, or by marker and author.

    An issue whose comments Jira will not show (deleted or hidden since the last
    sync) is added to ``skipped`` and the others are cleaned.
    """
    gone = ledger.deleted_comment_ids(conn)
    recorded = {
        record.comment_id: fingerprint
        for (fingerprint, _), record in ledger.comment_records(conn).items()
        if record.status == ledger.DONE and record.comment_id and record.comment_id not in gone
    }
    me = client.myself()
    deletions: list[CommentDeletion] = []
    for issue in issues:
        try:
            found = client.comments(issue.id)
        except REFUSED as exc:
            skipped.append((issue.key, f"its comments cannot be read ({exc.one_line()}); "
                            "they are left as they are"))
            continue
        for comment in found:
            comment_id = str(comment.get("id"))
            markers = find_markers(comment.get("body"))
            if comment_id in recorded:
                rule = markers[0][0] if markers else None
                deletions.append(CommentDeletion(issue.id, issue.key, comment_id, rule,
                                                 recorded[comment_id], f"{WHY} (ledger)"))
            elif markers and _same_user(comment.get("author"), me):
                rule, fingerprint = markers[0]
                deletions.append(CommentDeletion(issue.id, issue.key, comment_id, rule,
                                                 fingerprint, f"{WHY} (found by its marker)"))
    return deletions


def _same_user(author: Any, me: dict) -> bool:
    """Whether a comment's author is jira-pm's Jira user (accountId on Cloud, name/key on DC)."""
    if not isinstance(author, dict):
        return False
    return any(author.get(key) and author.get(key) == me.get(key)
               for key in ("accountId", "name", "key"))


class CleanApplier(Applier):
    """Performs a clean plan through apply's write path: label removals, comment deletions."""

    def apply(self, plan: Plan) -> Outcome:
        outcome = Outcome(self.run_id)
        for write in plan.writes:
            if isinstance(write, LabelWrite):
                self._labels(write, outcome)
            else:
                self._delete_comment(write, outcome)
        return outcome

    def _delete_comment(self, write: CommentDeletion, outcome: Outcome) -> None:
        entry = ledger.record_pending(
            self.conn, run_id=self.run_id, issue_id=write.issue_id, issue_key=write.issue_key,
            operation=ledger.OP_DELETE_COMMENT, rule_id=write.rule_id,
            fingerprint=write.fingerprint, comment_id=write.comment_id, detail=write.why,
        )
        sent, answer = self._send(entry, write, lambda: self._delete(write), outcome)
        if not sent:
            return
        ledger.record_result(self.conn, entry, ledger.DONE, detail=answer)
        outcome.done.append(write)

    def _delete(self, write: CommentDeletion) -> str | None:
        try:
            self.client.delete_comment(write.issue_id, write.comment_id)
        except JiraNotFound:
            return "already deleted in Jira"  # a person beat us to it: the goal is met
        return None


def clean_from_store(conn: sqlite3.Connection, client: Any, settings: Any, run_id: str, *,
                     pack_labels: Iterable[str], comments: bool = False, dry_run: bool = False,
                     fault: Any = None) -> WritebackResult:
    """Plan a clean and, unless ``dry_run``, perform it."""
    resume_sending(client)
    plan = plan_clean(conn, client, settings, pack_labels, comments=comments)
    if dry_run:
        return WritebackResult(plan, None)
    applier = CleanApplier(
        conn, client, run_id, adf=uses_adf(settings, client),
        notify_users=settings.writeback.notify_users, fault=fault,
        on_labels_written=lambda issue_id, add, remove: update_labels(conn, issue_id, add, remove),
    )
    return WritebackResult(plan, applier.apply(plan))
