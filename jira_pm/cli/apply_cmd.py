"""`jira-pm apply [--dry-run]`, `jira-pm run` (the cron entry) and `jira-pm demo`."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from jira_pm.cli.common import (
    BarProgress,
    is_terminal,
    load_settings_from_ctx,
    make_client,
    open_store,
)
from jira_pm.cli.main import main
from jira_pm.errors import LockBusy, UsageError

YES_HELP = ("Do not ask before the first write-back to a site (a terminal is asked; cron "
            "never is).")


def _client(settings: Any) -> Any:
    """The Jira client for this store: checks the store's site and reuses its deployment.

    The store is only read here (and a missing one not created): it is created,
    migrated and written only under the run lock.
    """
    from jira_pm.store.schema import store_exists

    if not store_exists(settings.store):
        return make_client(settings)
    conn = open_store(settings, readonly=True)
    try:
        return make_client(settings, conn)
    finally:
        conn.close()


def asks_first() -> bool:
    """Whether a person is there to answer: stdin and stderr are both terminals (not cron)."""
    return is_terminal(sys.stdin) and is_terminal(sys.stderr)


def first_write_check(settings: Any, *, yes: bool, quiet: bool = False):
    """The hook shown the plan before the first write-back to a site: its size, then a question.

    The size is printed on stderr (``quiet`` hides it unless a question follows); on a
    terminal, without ``yes``, the user is asked, and "no" raises UsageError (exit 2)
    before anything is written.
    """
    from jira_pm.writeback.plan import plan_size

    def confirm(plan: Any) -> None:
        notify = settings.writeback.notify_users
        asking = not yes and asks_first()
        if asking or not quiet:
            click.echo(f"first write-back to {settings.jira.url} (the ledger records no "
                       "write yet):", err=True)
            for line in plan_size(plan, notify).lines(notify):
                click.echo(f"  {line}", err=True)
        if not asking:
            return
        if not click.confirm("Write these to Jira now?", default=False, err=True):
            raise UsageError(
                f"nothing written: the first write-back to {settings.jira.url} was declined",
                hint="review it with `jira-pm apply --dry-run`; pass --yes to write "
                "without being asked",
            )

    return confirm


def write_progress(quiet: bool) -> BarProgress | None:
    """A bar counting the writes on a terminal; nothing for cron, pipes or --quiet."""
    return BarProgress("Writing to Jira") if not quiet and BarProgress.wanted() else None


def _as_of(settings: Any, text: str | None) -> datetime | None:
    """``--as-of`` as `audit` reads it: a date is the end of that day in [calendar] timezone."""
    from jira_pm.calendar import calendar_from_settings

    return calendar_from_settings(settings).parse_as_of(text) if text else None


@main.command("apply")
@click.option("--dry-run", is_flag=True, help="Print the plan (issue, operation, rule, why); "
              "write nothing.")
@click.option("--as-of", default=None, help="Evaluate as of this date (end of that day in "
              "[calendar] timezone) or ISO date-time instead of now.")
@click.option("--yes", "-y", is_flag=True, help=YES_HELP)
@click.pass_context
def apply_command(ctx: click.Context, dry_run: bool, as_of: str | None, yes: bool) -> None:
    """Evaluate the rule pack on the store and write its findings back to Jira.

    The findings are evaluated now, from the store as last synced (as `run`
    does, without syncing first); `apply` takes the same lock as `run`.
    """
    from jira_pm.runner import apply_pipeline, never_synced_error, writeback_lines

    settings = load_settings_from_ctx(ctx)
    when = _as_of(settings, as_of)
    from jira_pm.store.schema import store_exists

    if not store_exists(settings.store):
        raise never_synced_error(settings)  # and create no empty store at a wrong path
    client = _client(settings)
    try:
        report = apply_pipeline(settings, client, dry_run=dry_run, as_of=when,
                                confirm=first_write_check(settings, yes=yes),
                                progress=write_progress(quiet=dry_run))
    except LockBusy as busy:
        # Only `run` (cron) treats an overlap as fine; a person who asked to apply and got
        # nothing must see a failure, and a script must not mistake it for success.
        raise UsageError(busy.message, hint="wait for that run to finish, then apply again "
                         "(or check for a hung run)") from None
    click.echo(f"findings: {report.findings} open ({report.new} new, "
               f"{report.resolved} resolved)")
    for line in writeback_lines(report.writeback, dry_run, limit=10_000 if dry_run else 50):
        click.echo(line)
    for problem in report.config_problems:
        click.echo(f"notice: {problem}")
    ctx.exit(report.exit_code)


@main.command("run")
@click.option("--dry-run", is_flag=True, help="Sync and evaluate, then print the plan; "
              "write nothing to Jira.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing unless a write failed "
              "(for cron).")
@click.option("--log-json", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Append JSON-lines run logs here (default: [log] json_path).")
@click.option("--as-of", default=None, help="Evaluate as of this date (end of that day in "
              "[calendar] timezone) or ISO date-time instead of now.")
@click.option("--full", is_flag=True, help="Full sync instead of incremental.")
@click.option("--yes", "-y", is_flag=True, help=YES_HELP)
@click.option("--report", "report_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Regenerate the status report (`jira-pm report`) in this "
              "folder after the run.")
@click.pass_context
def run_command(ctx: click.Context, dry_run: bool, quiet: bool, log_json: Path | None,
                as_of: str | None, full: bool, yes: bool, report_dir: Path | None) -> None:
    """Sync, evaluate and apply: the entry for cron (a lock stops overlapping runs)."""
    from jira_pm.runner import run_pipeline

    settings = load_settings_from_ctx(ctx)
    client = _client(settings)
    try:
        report = run_pipeline(settings, client, dry_run=dry_run, as_of=_as_of(settings, as_of),
                              full_sync=full, log_json=log_json,
                              confirm=first_write_check(settings, yes=yes, quiet=quiet),
                              progress=write_progress(quiet=quiet or dry_run))
    except LockBusy as busy:
        if not quiet:
            click.echo(f"jira-pm: {busy.one_line()}", err=True)
        ctx.exit(busy.exit_code)
        return
    lines = report.summary_lines(dry_run)
    if report_dir is not None:
        from jira_pm.statusreport import generate

        index = generate(settings, report_dir, as_of=_as_of(settings, as_of))
        lines.append(f"report: {index}")
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
              help="Keep the demo's store, its report and a config for them in this folder "
              "(default: a temporary folder, deleted at the end).")
@click.option("--verbose", "-v", is_flag=True, help="Also show the sync's request counts.")
@click.pass_context
def demo_command(ctx: click.Context, flavor: str, keep: Path | None, verbose: bool) -> None:
    """Run the whole pipeline on a seeded sandbox site and show what it found and wrote."""
    from jira_pm.demo import run_demo

    ctx.exit(run_demo(flavor=flavor, keep=keep, echo=click.echo, verbose=verbose))
