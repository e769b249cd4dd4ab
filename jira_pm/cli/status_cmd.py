"""`jira-pm status`: the last sync and run, issue counts, open findings and stuck writes."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import click

from jira_pm.cli.common import echo, load_settings_from_ctx, open_store
from jira_pm.cli.main import main
from jira_pm.words import moment_text, plural


@main.command("status")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.pass_context
def status_command(ctx: click.Context, fmt: str) -> None:
    """Show the last sync and run, issue counts, open findings and stuck writes, from the store."""
    from jira_pm.status import empty_status, status_document

    settings = load_settings_from_ctx(ctx)
    from jira_pm.store.schema import store_exists

    if not store_exists(settings.store):  # say so, and create nothing at a wrong path
        document = empty_status(settings)
    else:
        conn = open_store(settings, readonly=True)
        try:
            document = status_document(conn, settings)
        finally:
            conn.close()
    if fmt == "json":
        echo(json.dumps(document, indent=2))
        return
    zone = ZoneInfo(settings.calendar.timezone)
    from jira_pm.sync.identity import scope_identity

    for line in status_lines(document, zone, shutil.get_terminal_size((100, 24)).columns,
                             configured_scope=scope_identity(settings)):
        echo(line)


def _scope_text(held: dict[str, Any], configured: dict[str, Any] | None) -> str:
    """The scope the store holds; and this config's, where that is another (it is refused)."""
    from jira_pm.sync.identity import describe_scope, scope_accepted

    text = describe_scope(held)
    if configured is not None and not scope_accepted(held, configured):
        text += (f" (not this config's {describe_scope(configured)}: see "
                 "`jira-pm sync --new-scope`)")
    return text


def _when(value: str | None, zone: Any) -> str:
    return moment_text(datetime.fromisoformat(value), zone) if value else "never"


def status_lines(doc: dict[str, Any], zone: Any, width: int,
                 configured_scope: dict[str, Any] | None = None) -> list[str]:
    """The status document for people."""
    from jira_pm.store.ledger import LoopRecord
    from jira_pm.writeback.log_view import stuck_lines

    if not doc["store_exists"]:
        return [f"store: {doc['store']} (no store yet)", f"site: {doc['site']} (not synced)",
                "last sync: never (run `jira-pm sync`)"]
    lines = [f"store: {doc['store']}", f"site: {doc['site']} ({doc['deployment'] or 'not synced'})"]
    if doc["scope"]:
        lines.append(f"scope: {_scope_text(doc['scope'], configured_scope)}")
    last_sync = doc["last_sync"]
    if doc["sync_cursor"] is None and doc["interrupted_sync"] is None:
        lines.append("last sync: never (run `jira-pm sync`)")
    else:
        if last_sync:
            lines.append(f"last sync: {last_sync['mode']}, {_when(last_sync['finished'], zone)}, "
                         f"{plural(last_sync['issues'], 'issue')}")
        lines.append(f"last sync cursor: {_when(doc['sync_cursor'], zone)}")
        lines.append(f"last full sync: {_when(doc['last_full_sync'], zone)}")
        lines.append(f"last reconcile: {_when(doc['last_reconcile'], zone)}")
        if doc["interrupted_sync"]:
            lines.append(f"interrupted sync: {doc['interrupted_sync']}")
        if doc["full_sync_pending"]:
            lines.append(f"full sync pending: {doc['full_sync_reason']}")
    lines.append(f"issues: {doc['issues']['total']}")
    lines += [f"  {project}: {count}" for project, count in doc["issues"]["by_project"].items()]
    lines.append(f"versions: {doc['versions']}, sprints: {doc['sprints']}")
    run = doc["last_run"]
    if run:
        text = (f"last run: {run['kind']} {run['run_id']}, {_when(run['started'], zone)}, "
                f"{run['outcome'] or 'still running'}")
        if run["writes_done"] is not None:
            text += (f"; writes {run['writes_done']} done, {run['writes_failed']} failed, "
                     f"{run['writes_deferred']} deferred")
        if run["error"]:
            text += f"; error: {run['error']}"
        lines.append(text)
    findings = doc["findings"]
    lines.append(f"open findings: {findings['open']}")
    if findings["open"]:
        lines.append("  by severity: " + ", ".join(
            f"{sev} {n}" for sev, n in findings["by_severity"].items()))
        lines.append("  by rule: " + ", ".join(
            f"{rule} {n}" for rule, n in findings["by_rule"].items()))
    stuck = [LoopRecord(s["issue_id"], s["change"], s["issue_key"], s["rule_id"], s["runs"],
                        s["first_sent"], s["last_sent"], "", s["stuck_at"], None)
             for s in doc["stuck_writes"]]
    return lines + stuck_lines(stuck, zone, width)
