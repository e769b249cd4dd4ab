"""``jira-pm run``, the cron entry: lock, sync → evaluate → apply, summary, JSON-lines log.

A lock file next to the store stops overlapping runs (cron every 15 minutes
and a slow Jira): the second run raises ``LockBusy`` (exit 0) and does nothing.
The store records the run (``runs``) and every write (``ledger``); the optional
JSON-lines log gives log collectors one event per stage and per write.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jira_pm.errors import (
    EXIT_JIRA,
    EXIT_OK,
    JiraPmError,
    LockBusy,
    StoreError,
    UsageError,
)
from jira_pm.redaction import redact
from jira_pm.store import ledger
from jira_pm.store.locks import run_lock, run_lock_path
from jira_pm.store.postgres import is_postgres_url
from jira_pm.store.schema import connect
from jira_pm.store.sync_state import get_meta, unsynced_reason
from jira_pm.sync.query import scope_key
from jira_pm.words import plural
from jira_pm.writeback.apply import FaultHook
from jira_pm.writeback.failures import failure_lines
from jira_pm.writeback.from_store import (
    ConfirmHook,
    WritebackResult,
    apply_from_store,
    new_run_id,
)
from jira_pm.writeback.workers import Progress

SUMMARY_WRITE_LINES = 12


def lock_path(store_path: Path) -> Path:
    """The lock file of a store: beside it, so two configs on one store share it."""
    return run_lock_path(store_path)


class JsonLog:
    """Appends one JSON object per line to a file; a no-op without a path.

    Each line is opened, written and closed on its own: a killed run keeps every
    line it logged, and a log rotated mid-run is picked up at the next line.
    Every line is redacted: an event may quote Jira's message, which may echo a token.
    """

    def __init__(self, path: Path | None, run_id: str):
        self.path = path
        self.run_id = run_id
        self._folder_ready = False

    def event(self, event: str, **fields: Any) -> None:
        if not self.path:
            return
        record = {"at": datetime.now(UTC).isoformat(timespec="milliseconds"),
                  "run_id": self.run_id, "event": event, **fields}
        try:
            if not self._folder_ready:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._folder_ready = True
            with self.path.open("a", encoding="utf-8") as out:
                out.write(redact(json.dumps(record, default=str, sort_keys=True)) + "\n")
        except OSError as exc:
            raise StoreError(f"cannot append to the JSON log {self.path}: {exc}",
                             hint="fix [log] json_path / --log-json or the folder's permissions"
                             ) from exc


@dataclass
class RunReport:
    """What one run did, for the summary and the exit code."""

    run_id: str
    sync_summary: str = ""
    findings: int = 0
    new: int = 0
    resolved: int = 0
    writeback: WritebackResult | None = None
    elapsed: float = 0.0
    stages: dict[str, float] = field(default_factory=dict)
    config_problems: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return self.writeback.exit_code if self.writeback else EXIT_OK

    def summary_lines(self, dry_run: bool = False) -> list[str]:
        """A one-screen summary: sync, findings, writes (first few), failures, notices."""
        lines = [f"jira-pm run {self.run_id} ({self.elapsed:.1f}s)"]
        if self.sync_summary:
            lines.append(f"sync: {self.sync_summary}")
        lines.append(f"findings: {self.findings:,} open ({self.new:,} new, "
                     f"{self.resolved:,} resolved)")
        lines.extend(writeback_lines(self.writeback, dry_run))
        lines.extend(f"notice: {problem}" for problem in self.config_problems)
        return lines


def writeback_lines(result: WritebackResult | None, dry_run: bool = False,
                    limit: int = SUMMARY_WRITE_LINES) -> list[str]:
    """The write-back part of a summary (also `jira-pm apply`'s output)."""
    if result is None:
        return []
    plan, outcome = result.plan, result.outcome
    lines: list[str] = []
    planned = plan.lines_by_issue()
    if dry_run or outcome is None:
        now = len(plan.lines())
        issues = len({write.issue_key for write in plan.writes})
        lines.append(f"plan (dry run, nothing written): {plural(now, 'change')} to "
                     f"{plural(issues, 'issue')} now, {plural(len(planned) - now, 'change')} "
                     "deferred to later runs (max_writes)")
    else:
        lines.append(f"writes: {len(outcome.done)} done, {len(outcome.failed)} failed, "
                     f"{outcome.deferred} deferred to the next run"
                     + (f", {outcome.skipped} skipped" if outcome.given_up else "")
                     + (f", {plural(outcome.adopted, 'comment')} already there" if outcome.adopted
                        else ""))
    for issue, operation, rule, why in planned[:limit]:
        lines.append(f"  {issue:<12} {operation:<28} {rule:<8} {why}")
    if len(planned) > limit:
        where = (f"`jira-pm log --run {outcome.run_id}` lists them all" if outcome
                 else "`jira-pm apply --dry-run` lists them all")
        lines.append(f"  ... and {len(planned) - limit} more ({where})")
    for key, why in plan.skipped[:limit]:
        lines.append(f"  skipped {key}: {why}")
    if outcome:
        lines.extend(failure_lines(outcome.failed, outcome.given_up))
        lines.extend(f"notice: {notice}" for notice in outcome.notices)
    else:
        for write, _, message in plan.unreadable[:limit]:
            lines.append(f"  unreadable {write.issue_key}: its comment cannot be planned, "
                         f"the marker search failed ({message})")
    return lines


def run_pipeline(
    settings: Any,
    client: Any,
    *,
    dry_run: bool = False,
    as_of: datetime | None = None,
    full_sync: bool = False,
    log_json: Path | None = None,
    pack: Any = None,
    fault: FaultHook | None = None,
    confirm: ConfirmHook | None = None,
    progress: Progress | None = None,
) -> RunReport:
    """Lock, sync, evaluate and apply; raises LockBusy when another run holds the lock.

    ``confirm`` sees the plan before the first write-back to a site (see ``apply_from_store``);
    ``progress`` is advanced once per write (the CLI's bar on a terminal).
    """
    run_id = new_run_id()
    log = JsonLog(log_json if log_json is not None else settings.log.json_path, run_id)
    with store_lock(settings, log), _waits_logged(client, log):
        conn = connect(settings.store)
        try:
            return _run_locked(conn, settings, client, run_id, log, dry_run=dry_run,
                               as_of=as_of, full_sync=full_sync, pack=pack, fault=fault,
                               confirm=confirm, progress=progress)
        finally:
            conn.close()


@contextmanager
def _waits_logged(client: Any, log: JsonLog) -> Iterator[None]:
    """Log every retry wait of ``client``'s requests as a 'wait' event while the run lasts."""
    http = getattr(client, "http", None)
    if http is None or not hasattr(http, "add_wait_observer"):  # a test's fake client
        yield
        return

    def observer(wait: Any) -> None:
        log.event("wait", method=wait.method, path=wait.path, seconds=round(wait.seconds, 3),
                  attempt=wait.attempt, reason=wait.reason, status=wait.status,
                  scope=wait.scope, limit_reason=wait.limit_reason)

    http.add_wait_observer(observer)
    try:
        yield
    finally:
        http.remove_wait_observer(observer)


@contextmanager
def store_lock(settings: Any, log: JsonLog | None = None) -> Iterator[None]:
    """Hold the store's run lock (``run`` and ``apply`` share it); LockBusy when it is held."""
    if is_postgres_url(settings.store):
        held_by = f"another jira-pm run holds its lock in {settings.store_name}"
    else:
        held_by = f"another jira-pm run holds the lock {lock_path(Path(settings.store_path))}"
    try:
        with run_lock(settings.store, f"{held_by}; this run did nothing",
                      "nothing to fix if runs overlap now and then; if it persists, "
                      "run less often or check for a hung run"):
            yield
    except LockBusy:
        if log is not None:
            log.event("run-skipped", reason="lock busy")
        raise


def never_synced_error(settings: Any, what: str = "apply", reason: str = "never") -> UsageError:
    """The one-line error of a command that needs synced data and finds none, or only part.

    ``reason`` is ``store.sync_state.unsynced_reason``'s: "never" or "interrupted".
    """
    if reason == "interrupted":
        return UsageError(f"the store at {settings.store_name} holds only part of the site: its "
                          f"first full sync was interrupted, so there is nothing to {what} yet",
                          hint="run `jira-pm sync` to resume it")
    return UsageError(f"the store at {settings.store_name} has never been synced, so there is "
                      f"nothing to {what}", hint="run `jira-pm sync` first, or check [store] path "
                      "in the config")


def require_synced(conn: Any, settings: Any, what: str = "apply") -> None:
    """Refuse a store whose scope never completed a full sync, or that holds another scope.

    Either way its findings would be wrong (see ``sync.identity`` for the scope).
    """
    from jira_pm.sync.identity import SCOPE_MOVED, check_scope

    check_scope(conn, settings, settings.store_name)
    moving_to = get_meta(conn, SCOPE_MOVED)
    if moving_to:
        raise UsageError(f"the store at {settings.store_name} is moving to {moving_to} and may "
                         f"still hold issues of the scope it held, so there is nothing to "
                         f"{what} yet", hint="run `jira-pm sync` to finish the move")
    reason = unsynced_reason(conn, scope_key(settings))
    if reason:
        raise never_synced_error(settings, what, reason)


@dataclass
class ApplyReport:
    """What `jira-pm apply` did: the findings it evaluated and the write-back result."""

    run_id: str
    findings: int
    new: int
    resolved: int
    writeback: WritebackResult
    config_problems: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return self.writeback.exit_code


def apply_pipeline(
    settings: Any,
    client: Any,
    *,
    dry_run: bool = False,
    as_of: datetime | None = None,
    pack: Any = None,
    fault: FaultHook | None = None,
    confirm: ConfirmHook | None = None,
    progress: Progress | None = None,
) -> ApplyReport:
    """`jira-pm apply`: under the run lock, evaluate the store now and write those findings.

    The findings are evaluated afresh (recorded unless ``dry_run``), never taken
    from an earlier audit, which may predate the last sync or never have run.
    Raises LockBusy when a run holds the lock, UsageError when the store was never
    synced or its first full sync is incomplete.
    """
    from jira_pm.engine import evaluate_store
    from jira_pm.rulepack import load_pack
    from jira_pm.store.schema import store_exists

    if not store_exists(settings.store):
        raise never_synced_error(settings)
    run_id = new_run_id()
    with store_lock(settings):
        conn = connect(settings.store)
        try:
            require_synced(conn, settings)
            pack = pack or load_pack(settings)
            if dry_run:  # a dry run writes nothing, not to Jira and not to the store
                evaluation = evaluate_store(conn, settings, pack, as_of, record=False)
                result = apply_from_store(conn, client, settings, findings=evaluation.findings,
                                          owned_labels=pack.owned_labels(), dry_run=True)
                return ApplyReport(run_id, len(evaluation.findings), len(evaluation.new),
                                   len(evaluation.resolved), result, evaluation.problems)
            ledger.close_interrupted(conn, run_id)  # we hold the lock: they are dead
            ledger.start_run(conn, run_id, "apply")
            try:
                evaluation = evaluate_store(conn, settings, pack, as_of, record=True)
                result = apply_from_store(
                    conn, client, settings, findings=evaluation.findings,
                    owned_labels=pack.owned_labels(), run_id=run_id, fault=fault,
                    confirm=confirm, progress=progress,
                )
            except JiraPmError as exc:
                ledger.finish_run(conn, run_id, "error", {"error": exc.one_line()})
                raise
            outcome = result.outcome
            ledger.finish_run(conn, run_id, run_outcome(result.exit_code), {
                "findings": len(evaluation.findings), "new": len(evaluation.new),
                "resolved": len(evaluation.resolved),
                "writes_done": len(outcome.done) if outcome else 0,
                "writes_failed": len(outcome.failed) if outcome else 0,
                "writes_deferred": outcome.deferred if outcome else 0,
                "writes_skipped": outcome.skipped if outcome else 0,
            })
            return ApplyReport(run_id, len(evaluation.findings), len(evaluation.new),
                               len(evaluation.resolved), result, evaluation.problems)
        finally:
            conn.close()


def _run_locked(conn: sqlite3.Connection, settings: Any, client: Any, run_id: str,
                log: JsonLog, *, dry_run: bool, as_of: datetime | None, full_sync: bool,
                pack: Any, fault: FaultHook | None,
                confirm: ConfirmHook | None = None,
                progress: Progress | None = None) -> RunReport:
    from jira_pm.engine import evaluate_store
    from jira_pm.rulepack import load_pack
    from jira_pm.sync import sync

    started = time.monotonic()
    report = RunReport(run_id)
    ledger.close_interrupted(conn, run_id)  # the caller holds the lock: they are dead
    ledger.start_run(conn, run_id, "run")
    log.event("run-start", dry_run=dry_run)
    try:
        pack = pack or load_pack(settings)

        clock = time.monotonic()
        synced = sync(settings, conn, client, full=full_sync)
        report.stages["sync"] = time.monotonic() - clock
        report.sync_summary = synced.summary()
        log.event("sync", issues=synced.issues, requests=synced.requests,
                  seconds=round(report.stages["sync"], 3), mode=synced.mode)

        clock = time.monotonic()
        evaluation = evaluate_store(conn, settings, pack, as_of, record=not dry_run)
        report.stages["evaluate"] = time.monotonic() - clock
        report.findings = len(evaluation.findings)
        report.new, report.resolved = len(evaluation.new), len(evaluation.resolved)
        log.event("evaluate", findings=report.findings, new=report.new,
                  resolved=report.resolved, seconds=round(report.stages["evaluate"], 3))
        report.config_problems = evaluation.problems
        for problem in evaluation.problems:
            log.event("config-problem", message=problem)

        clock = time.monotonic()
        report.writeback = apply_from_store(
            conn, client, settings, findings=evaluation.findings,
            owned_labels=pack.owned_labels(), dry_run=dry_run, run_id=run_id, fault=fault,
            confirm=confirm, progress=progress,
        )
        report.stages["apply"] = time.monotonic() - clock
        _log_writes(log, report.writeback, dry_run)
    except JiraPmError as exc:
        report.elapsed = time.monotonic() - started
        ledger.finish_run(conn, run_id, "error", {"error": exc.one_line()})
        log.event("run-end", outcome="error", error=exc.one_line(), exit_code=exc.exit_code)
        raise
    report.elapsed = time.monotonic() - started
    outcome = run_outcome(report.exit_code)
    summary = _summary_record(report)
    ledger.finish_run(conn, run_id, outcome, summary)
    log.event("run-end", outcome=outcome, exit_code=report.exit_code, **summary)
    return report


def run_outcome(exit_code: int) -> str:
    """The ``runs.outcome`` of a run that ended with ``exit_code``."""
    if exit_code == EXIT_OK:
        return "ok"
    return "refused" if exit_code == EXIT_JIRA else "partial"


def _log_writes(log: JsonLog, result: WritebackResult, dry_run: bool) -> None:
    if dry_run or result.outcome is None:
        for issue, operation, rule, why in result.plan.lines():
            log.event("planned", issue=issue, operation=operation, rule=rule, why=why)
        return
    for write in result.outcome.done:
        for issue, operation, rule, why in write.describe():
            log.event("write", issue=issue, operation=operation, rule=rule, why=why,
                      status="done")
    for failure in result.outcome.failed:
        log.event("write", issue=failure.issue_key, operation=failure.operation,
                  status="failed", http_status=failure.http_status, error=failure.message)
    for notice in result.outcome.notices:
        log.event("notice", message=notice)
    for held in result.loops.newly_stuck:
        log.event("write-stuck", issue=held.issue_key, change=held.change, rule=held.rule_id,
                  runs=held.runs)
    for project, skipped in result.outcome.given_up.items():
        log.event("project-given-up", project=project, writes_skipped=skipped)


def _summary_record(report: RunReport) -> dict[str, Any]:
    outcome = report.writeback.outcome if report.writeback else None
    return {
        "findings": report.findings,
        "new": report.new,
        "resolved": report.resolved,
        "writes_done": len(outcome.done) if outcome else 0,
        "writes_failed": len(outcome.failed) if outcome else 0,
        "writes_deferred": outcome.deferred if outcome else 0,
        "writes_skipped": outcome.skipped if outcome else 0,
        "seconds": round(report.elapsed, 3),
        "stages": {k: round(v, 3) for k, v in report.stages.items()},
    }
