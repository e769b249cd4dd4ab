"""`jira-pm log` (what was written, when, by which run, with what result) and `jira-pm unstick`."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import click

from jira_pm.cli.common import echo, load_settings_from_ctx, open_store
from jira_pm.cli.main import main
from jira_pm.errors import UsageError


@main.command("log")
@click.option("--run", "run_id", default=None, metavar="ID",
              help="Only this run (its id, or the start of it).")
@click.option("--issue", "issue_key", default=None, metavar="KEY",
              help="Only writes to this issue (its key then or now).")
@click.option("--since", "since_text", default=None, metavar="WHEN",
              help="Only runs started since: an age (90m, 2h, 3d, 1w), a date or an ISO "
                   "date-time (in the configured time zone unless it gives its offset).")
@click.option("--last", default=20, show_default=True, metavar="N",
              help="How many of the latest runs, when no other option narrows the log.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@click.pass_context
def log_command(ctx: click.Context, run_id: str | None, issue_key: str | None,
                since_text: str | None, last: int, fmt: str) -> None:
    """Show the write ledger: each run with its outcome, and every write it made, from the store."""
    from jira_pm.writeback.log_view import log_json, log_lines, parse_since, select

    settings = load_settings_from_ctx(ctx)
    zone = ZoneInfo(settings.calendar.timezone)
    since = parse_since(since_text, zone, datetime.now(UTC)) if since_text else None
    from jira_pm.store.schema import store_exists

    if not store_exists(settings.store):  # create nothing at a wrong path
        raise UsageError(f"there is no store at {settings.store_name}, so no ledger",
                         hint="run `jira-pm run` or `jira-pm apply` first, or check [store] "
                              "path in jira-pm.toml")
    conn = open_store(settings, readonly=True)
    try:
        selection = select(conn, run_id=run_id, issue_key=issue_key, since=since, last=last,
                           none_running=_none_running(settings))
    finally:
        conn.close()
    if fmt == "json":
        echo(json.dumps(log_json(selection), indent=2))
        return
    for line in log_lines(selection, zone, shutil.get_terminal_size((100, 24)).columns):
        echo(line)


def _none_running(settings) -> bool:
    """Whether no run holds the store's run lock now (False when that cannot be told)."""
    from jira_pm.store.locks import run_lock_free

    return run_lock_free(settings.store)


@main.command("unstick")
@click.argument("issue_keys", nargs=-1, metavar="KEY...")
@click.option("--all", "everything", is_flag=True, help="Every stuck label change.")
@click.pass_context
def unstick_command(ctx: click.Context, issue_keys: tuple[str, ...], everything: bool) -> None:
    """Send these issues' stuck label changes again: the next run tries each up to 3 more times.

    A label change is stuck when Jira accepted it on 3 runs in a row and each
    following sync showed it undone (see `jira-pm status`). Fix the cause first.
    """
    from jira_pm.store import ledger

    if bool(issue_keys) == everything:
        raise UsageError("give the issue keys to unstick, or --all",
                         hint="`jira-pm status` lists the stuck label changes")
    settings = load_settings_from_ctx(ctx)
    from jira_pm.store.schema import store_exists

    if not store_exists(settings.store):
        raise UsageError(f"there is no store at {settings.store_name}",
                         hint="check [store] path in jira-pm.toml")
    conn = open_store(settings)
    try:
        cleared = ledger.clear_loops(conn, None if everything else issue_keys)
    finally:
        conn.close()
    found = {r.issue_key for r in cleared}
    missing = [key for key in issue_keys if key not in found]
    for record in cleared:
        state = "stuck" if record.stuck_at else f"counted {record.runs} of 3"
        echo(f"cleared {record.issue_key} {record.change} ({state}): the next run sends it again")
    if missing:
        raise UsageError(f"no stuck or counted label change on {', '.join(missing)}",
                         hint="`jira-pm status` lists the stuck label changes")
    if not cleared:
        echo("no stuck label change to clear")
