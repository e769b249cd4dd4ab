"""Write-back from the store: open findings and issues as synced → plan → Jira → ledger."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from jira_pm.jira.http import resume_sending
from jira_pm.model import Finding
from jira_pm.store import ledger
from jira_pm.writeback.apply import Applier, FaultHook, Outcome, finalize
from jira_pm.writeback.loops import LoopCheck, check_loops, sends
from jira_pm.writeback.plan import Plan, Policy, plan_candidates
from jira_pm.writeback.store_io import (
    comment_lookups,
    issue_states,
    issues_in_scope,
    resolved_findings,
    update_labels,
)
from jira_pm.writeback.store_io import owned_labels as owned_by_jira_pm
from jira_pm.writeback.workers import Progress

# Asked before the first write-back to a site (see ``apply_from_store``); raises to decline.
ConfirmHook = Callable[[Plan], None]


@dataclass
class WritebackResult:
    plan: Plan
    outcome: Outcome | None  # None for a dry run
    loops: LoopCheck = field(default_factory=LoopCheck)  # label changes held back as stuck

    @property
    def exit_code(self) -> int:
        return self.outcome.exit_code if self.outcome else 0


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]


def uses_adf(settings: Any, client: Any) -> bool:
    """ADF bodies (REST v3) on Cloud unless the config says otherwise; wiki markup elsewhere."""
    chosen = settings.writeback.comment_format
    if chosen == "adf":
        return True
    if chosen == "wiki":
        return False
    return bool(client.is_cloud)


def build_plan(conn: sqlite3.Connection, client: Any, settings: Any, findings: Sequence[Finding],
               owned_labels: Iterable[str]) -> Plan:
    """The plan a run performs now: candidates, marker searches (reads only), the bound."""
    return plan_with_loops(conn, client, settings, findings, owned_labels)[0]


def plan_with_loops(conn: sqlite3.Connection, client: Any, settings: Any,
                    findings: Sequence[Finding],
                    owned_labels: Iterable[str]) -> tuple[Plan, LoopCheck]:
    """``build_plan``, and the label changes it left out because they do not stick."""
    policy = Policy.from_settings(settings.writeback, owned_by_jira_pm(conn, owned_labels))
    records = ledger.comment_records(conn)
    # A comment `jira-pm clean` deleted is forgotten: a finding still open gets it again.
    deleted = ledger.deleted_comment_ids(conn)
    records = {key: r for key, r in records.items() if r.comment_id not in deleted}
    open_prints = {f.fingerprint for f in findings}
    resolved = resolved_findings(conn, {fp for fp, _ in records if fp not in open_prints})
    issues = issues_in_scope(conn, settings.scope.projects)
    # Keys of every stored issue: a finding may list issues outside the written scope.
    lookups = comment_lookups(conn, settings, issue_states(conn))
    candidates = plan_candidates(issues, findings, records, policy, resolved, lookups)
    # Stuck changes go before the bound, so they take no place in max_writes.
    candidates, loops = check_loops(candidates, ledger.loop_records(conn), issues)
    return finalize(candidates, client, settings.writeback.max_writes,
                    settings.jira.max_parallel), loops


def apply_from_store(
    conn: sqlite3.Connection,
    client: Any,
    settings: Any,
    *,
    findings: Sequence[Finding] | None = None,
    owned_labels: Iterable[str] | None = None,
    dry_run: bool = False,
    run_id: str | None = None,
    fault: FaultHook | None = None,
    confirm: ConfirmHook | None = None,
    progress: Progress | None = None,
) -> WritebackResult:
    """Plan from the store's open findings and, unless ``dry_run``, perform the plan.

    ``confirm`` is called with the plan before the first write-back to a site (the
    ledger records no write yet) when the plan has writes; it raises to decline,
    and then nothing is written, not even a ledger row. Writes to different issues
    go out concurrently, up to ``[jira] max_parallel`` at once (see ``workers``);
    ``progress`` is advanced once per write.
    """
    if findings is None:
        from jira_pm.store.findings import open_findings

        findings = open_findings(conn)
    if owned_labels is None:
        from jira_pm.rulepack import load_pack

        owned_labels = load_pack(settings).owned_labels()
    resume_sending(client)
    plan, loops = plan_with_loops(conn, client, settings, findings, owned_labels)
    if dry_run:
        return WritebackResult(plan, None, loops)
    if confirm is not None and plan.writes and not ledger.has_written(conn):
        confirm(plan)
    applier = Applier(
        conn, client, run_id or new_run_id(), adf=uses_adf(settings, client),
        notify_users=settings.writeback.notify_users, fault=fault,
        on_labels_written=lambda issue_id, add, remove: update_labels(conn, issue_id, add, remove),
        parallel=settings.jira.max_parallel, progress=progress,
    )
    run_id = applier.run_id
    outcome = applier.apply(plan)
    _count_loops(conn, run_id, loops, outcome)
    return WritebackResult(plan, outcome, loops)


def _count_loops(conn: sqlite3.Connection, run_id: str, loops: LoopCheck,
                 outcome: Outcome) -> None:
    """Record what loop detection learnt this run; a change that became stuck is said once."""
    ledger.forget_loops(conn, loops.took_effect)
    ledger.record_label_sends(conn, run_id, sends(outcome.done))
    ledger.mark_stuck(conn, [(h.issue_id, h.change) for h in loops.newly_stuck])
    outcome.notices.extend(h.notice() for h in loops.newly_stuck)
