"""`jira-pm apply [--dry-run]`, `jira-pm run` (the cron entry) and `jira-pm demo`."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import click

from jira_pm.cli.main import main
from jira_pm.errors import LockBusy, UsageError


def _settings(ctx: click.Context) -> Any:
    from jira_pm.config import load_settings

    return load_settings(ctx.find_root().obj.get("config_path"))


def _client(settings: Any, conn: Any) -> Any:
    from jira_pm.cli.sync_cmd import make_sync_client

    return make_sync_client(settings, conn)


def parse_as_of(text: str | None) -> datetime | None:
    """``--as-of``: an ISO date (start of that day, UTC) or an ISO date-time (UTC if naive)."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        try:
            moment = datetime.combine(date.fromisoformat(text), datetime.min.time())
        except ValueError:
            raise UsageError(f"--as-of {text!r} is not an ISO date or date-time",
                             hint="write it like 2026-03-18 or 2026-03-18T10:00:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@main.command("apply")
@click.option("--dry-run", is_flag=True, help="Print the plan (issue, operation, rule, why); "
              "write nothing.")
@click.pass_context
def apply_command(ctx: click.Context, dry_run: bool) -> None:
    """Write the store's open findings back to Jira as labels and comments."""
    from jira_pm.rulepack import load_pack
    from jira_pm.runner import writeback_lines
    from jira_pm.store.findings import open_findings
    from jira_pm.store.schema import connect
    from jira_pm.writeback.from_store import apply_from_store

    settings = _settings(ctx)
    conn = connect(settings.store_path)
    try:
        result = apply_from_store(
            conn, _client(settings, conn), settings, findings=open_findings(conn),
            owned_labels=load_pack(settings).owned_labels(), dry_run=dry_run,
        )
    finally:
        conn.close()
    for line in writeback_lines(result, dry_run, limit=10_000 if dry_run else 50):
        click.echo(line)
    ctx.exit(result.exit_code)


@main.command("run")
@click.option("--dry-run", is_flag=True, help="Sync and evaluate, then print the plan; "
              "write nothing to Jira.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing unless a write failed "
              "(for cron).")
@click.option("--log-json", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Append JSON-lines run logs here (default: [log] json_path).")
@click.option("--as-of", default=None, help="Evaluate as of this date or date-time "
              "instead of now.")
@click.option("--full", is_flag=True, help="Full sync instead of incremental.")
@click.pass_context
def run_command(ctx: click.Context, dry_run: bool, quiet: bool, log_json: Path | None,
                as_of: str | None, full: bool) -> None:
    """Sync, evaluate and apply: the entry for cron (a lock stops overlapping runs)."""
    from jira_pm.runner import run_pipeline
    from jira_pm.store.schema import connect

    settings = _settings(ctx)
    conn = connect(settings.store_path)
    try:
        client = _client(settings, conn)
    finally:
        conn.close()
    try:
        report = run_pipeline(settings, client, dry_run=dry_run, as_of=parse_as_of(as_of),
                              full_sync=full, log_json=log_json)
    except LockBusy as busy:
        if not quiet:
            click.echo(f"jira-pm: {busy.one_line()}", err=True)
        ctx.exit(busy.exit_code)
        return
    lines = report.summary_lines(dry_run)
    if not quiet:
        for line in lines:
            click.echo(line)
    elif report.exit_code:
        for line in lines:
            if line.startswith(("failed:", "notice:")):
                click.echo(f"jira-pm: {line}", err=True)
    ctx.exit(report.exit_code)


@main.command("demo")
@click.option("--flavor", type=click.Choice(["cloud", "server"]), default="cloud",
              show_default=True, help="Which Jira the sandbox plays.")
@click.option("--keep", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Keep the demo's store and config in this folder (default: a temp folder).")
@click.pass_context
def demo_command(ctx: click.Context, flavor: str, keep: Path | None) -> None:
    """Run the whole pipeline on a seeded sandbox site and show what it found and wrote."""
    from jira_pm.demo import run_demo

    ctx.exit(run_demo(flavor=flavor, keep=keep, echo=click.echo))
