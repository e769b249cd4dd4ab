"""`jira-pm log`: the ledger as people read it (a table per run) and as scripts read it (JSON).

Pure functions of ledger rows, runs and stuck label changes; the CLI picks the
rows (``select``) and prints what these return.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from jira_pm.errors import UsageError
from jira_pm.store import ledger
from jira_pm.store.ledger import LedgerEntry, LoopRecord, RunRecord
from jira_pm.words import local, moment_text, plural

# The JSON document's shape; raised only when a field changes meaning or goes away.
LOG_JSON_VERSION = 1

DEFAULT_RUNS = 20  # runs shown when no --run, --since or --issue narrows the log

_AGE = re.compile(r"^(\d+)\s*([mhdw])$")
_AGE_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}

_OPERATION_WORDS = {
    ledger.OP_COMMENT: "comment",
    ledger.OP_EDIT_COMMENT: "edit comment",
    ledger.OP_COMMENT_PROPERTY: "tag comment",
    ledger.OP_DELETE_COMMENT: "delete comment",
}

_MIN_DETAIL = 24  # narrower than this, the detail goes on its own lines under the row


def parse_since(text: str, zone: tzinfo, now: datetime) -> datetime:
    """``--since``: an age (``90m``, ``2h``, ``3d``, ``1w``), a date (its start in ``zone``)
    or an ISO date-time (in ``zone`` unless it names its offset); a UTC instant."""
    value = text.strip()
    age = _AGE.match(value.lower())
    if age:
        return now - timedelta(**{_AGE_UNITS[age.group(2)]: int(age.group(1))})
    try:
        if len(value) == 10:
            moment = datetime.combine(date.fromisoformat(value), time.min, tzinfo=zone)
        else:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--since {text!r} is neither an age, a date nor an ISO date-time",
                         hint="use e.g. --since 2h, --since 3d, --since 2026-11-20 or "
                              "--since 2026-11-20T09:00") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


@dataclass
class LogSelection:
    """The runs and writes one `jira-pm log` shows, and the stuck label changes."""

    runs: list[RunRecord]
    writes: list[LedgerEntry]
    stuck: list[LoopRecord]


def select(conn: Any, *, run_id: str | None = None, issue_key: str | None = None,
           since: datetime | None = None, last: int = DEFAULT_RUNS,
           none_running: bool = False) -> LogSelection:
    """The runs (oldest first) and their writes that match; UsageError for an unknown run.

    With ``none_running`` (nobody holds the run lock) a run without an end was
    killed: it and its pending writes are shown ``interrupted``, as the next run
    will record them.
    """
    runs = ledger.runs(conn)
    dead = {r.id for r in runs if r.finished is None} if none_running else set()
    runs = [replace(r, outcome=ledger.INTERRUPTED) if r.id in dead else r for r in runs]
    if run_id is not None:
        matches = [r for r in runs if r.id == run_id] or [
            r for r in runs if r.id.startswith(run_id)]
        if len(matches) != 1:
            what = "no run" if not matches else "more than one run starting with"
            raise UsageError(f"--run {run_id}: {what} {run_id!r} in the ledger",
                             hint="`jira-pm log` lists the runs with their ids")
        runs = matches
    if since is not None:
        runs = [r for r in runs if datetime.fromisoformat(r.started) >= since]
    writes = ledger.entries(conn, issue_key=issue_key)
    if issue_key is not None:
        with_writes = {e.run_id for e in writes}
        runs = [r for r in runs if r.id in with_writes]
    elif run_id is None and since is None:
        runs = runs[-last:] if last > 0 else runs
    shown = {r.id for r in runs}
    writes = [replace(e, status=ledger.INTERRUPTED)
              if e.run_id in dead and e.status == ledger.PENDING else e
              for e in writes if e.run_id in shown]
    stuck = ledger.loop_records(conn, stuck_only=True)
    if issue_key is not None:
        stuck = [s for s in stuck if s.issue_key == issue_key]
    return LogSelection(runs, writes, stuck)


# ---- JSON --------------------------------------------------------------------------------

def log_json(selection: LogSelection) -> dict[str, Any]:
    """The documented, stable JSON form (see docs/writeback.md, "jira-pm log")."""
    return {
        "version": LOG_JSON_VERSION,
        "runs": [run_json(r) for r in selection.runs],
        "writes": [_write_json(e) for e in selection.writes],
        "stuck": [stuck_json(s) for s in selection.stuck],
    }


def run_json(run: RunRecord) -> dict[str, Any]:
    summary = run.summary
    return {
        "run_id": run.id, "kind": run.kind, "started": run.started, "finished": run.finished,
        "outcome": run.outcome,
        "writes_done": summary.get("writes_done"), "writes_failed": summary.get("writes_failed"),
        "writes_deferred": summary.get("writes_deferred"),
        "writes_skipped": summary.get("writes_skipped"), "error": summary.get("error"),
    }


def _write_json(entry: LedgerEntry) -> dict[str, Any]:
    added, removed = _label_changes(entry)
    return {
        "id": entry.id, "run_id": entry.run_id, "at": entry.at, "issue_key": entry.issue_key,
        "issue_id": entry.issue_id, "operation": entry.operation, "labels_added": added,
        "labels_removed": removed, "rule_id": entry.rule_id, "fingerprint": entry.fingerprint,
        "comment_id": entry.comment_id, "status": entry.status,
        "http_status": entry.http_status, "detail": entry.detail,
    }


def stuck_json(record: LoopRecord) -> dict[str, Any]:
    return {
        "issue_key": record.issue_key, "issue_id": record.issue_id, "change": record.change,
        "label": record.change[1:], "action": "add" if record.change[0] == "+" else "remove",
        "rule_id": record.rule_id, "runs": record.runs, "first_sent": record.first_sent,
        "last_sent": record.last_sent, "stuck_at": record.stuck_at,
    }


def _label_changes(entry: LedgerEntry) -> tuple[list[str], list[str]]:
    if entry.operation != ledger.OP_LABELS or not entry.label:
        return [], []
    words = entry.label.split()
    return ([w[1:] for w in words if w.startswith("+")],
            [w[1:] for w in words if w.startswith("-")])


# ---- the table -----------------------------------------------------------------------------

def log_lines(selection: LogSelection, zone: tzinfo, width: int) -> list[str]:
    """One header per run (kind, id, start, outcome, counts), its writes under it, then the
    stuck label changes; the last column wraps to ``width``."""
    if not selection.runs:
        lines = ["no run matches (jira-pm records apply, run and clean runs)"]
    else:
        lines = []
    by_run: dict[str, list[LedgerEntry]] = {}
    for entry in selection.writes:
        by_run.setdefault(entry.run_id, []).append(entry)
    rows = {e.id: _row(e) for e in selection.writes}
    widths = _widths(rows.values())
    for run in selection.runs:
        writes = by_run.get(run.id, [])
        lines.append(_run_header(run, writes, zone))
        start_day = local(datetime.fromisoformat(run.started), zone).date()
        for entry in writes:
            lines += _row_lines(entry, rows[entry.id], widths, start_day, zone, width)
    lines += stuck_lines(selection.stuck, zone, width)
    return lines


def stuck_lines(stuck: list[LoopRecord], zone: tzinfo, width: int) -> list[str]:
    """The stuck label changes, and how to send them again."""
    if not stuck:
        return []
    lines = [f"stuck: {plural(len(stuck), 'label change')} not sent until cleared with "
             "`jira-pm unstick KEY`"]
    for record in stuck:
        verb = "add" if record.change[0] == "+" else "remove"
        since = moment_text(datetime.fromisoformat(record.stuck_at), zone)
        text = (f"{record.issue_key} {verb} {record.change[1:]} ({record.rule_id or '-'}): "
                f"sent on {plural(record.runs, 'run')}, undone each time; stuck since {since}")
        lines += textwrap.wrap(text, width, initial_indent="  ", subsequent_indent="    ")
    return lines


def _run_header(run: RunRecord, writes: list[LedgerEntry], zone: tzinfo) -> str:
    started = moment_text(datetime.fromisoformat(run.started), zone)
    outcome = run.outcome or "still running"
    counts: dict[str, int] = {}
    for entry in writes:
        counts[entry.status] = counts.get(entry.status, 0) + 1
    if writes:
        detail = ", ".join(f"{n} {status}" for status, n in counts.items())
        what = f"{plural(len(writes), 'write')} ({detail})"
    else:
        what = "no writes"
    error = run.summary.get("error")
    return f"{run.kind} {run.id}  {started}  {outcome}: {what}" + (
        f"; error: {error}" if error else "")


def _row(entry: LedgerEntry) -> tuple[str, str, str, str]:
    """(issue, write, rule, result) of one ledger row."""
    write = (entry.label or "labels") if entry.operation == ledger.OP_LABELS else \
        _OPERATION_WORDS.get(entry.operation, entry.operation)
    result = entry.status + (f" {entry.http_status}" if entry.http_status and
                             entry.status == ledger.FAILED else "")
    return entry.issue_key or str(entry.issue_id), write, entry.rule_id or "-", result


def _widths(rows: Any) -> tuple[int, ...]:
    rows = list(rows)
    return tuple(max((len(r[i]) for r in rows), default=0) for i in range(4))


def _row_lines(entry: LedgerEntry, row: tuple[str, str, str, str], widths: tuple[int, ...],
               start_day: date, zone: tzinfo, width: int) -> list[str]:
    at = local(datetime.fromisoformat(entry.at), zone)
    when = f"{at:%H:%M}" if at.date() == start_day else f"{at:%Y-%m-%d %H:%M}"
    cells = "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True))
    head = f"  {when}  {cells}"
    detail = " ".join((entry.detail or "").split())
    if not detail:
        return [head.rstrip()]
    room = width - len(head) - 2
    if room >= _MIN_DETAIL:
        wrapped = textwrap.wrap(detail, room)
        indent = " " * (len(head) + 2)
        return [f"{head}  {wrapped[0]}", *(indent + part for part in wrapped[1:])]
    return [head.rstrip(), *textwrap.wrap(detail, width, initial_indent="      ",
                                           subsequent_indent="      ")]
