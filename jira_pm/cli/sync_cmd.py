"""`jira-pm sync [--full] [--reconcile] [--new-scope]`."""

from __future__ import annotations

import click

from jira_pm.cli.common import (
    BarProgress,
    load_settings_from_ctx,
    make_client,
    open_store,
)
from jira_pm.cli.main import main
from jira_pm.errors import LockBusy, UsageError


@main.command("sync")
@click.option("--full", is_flag=True, help="Fetch every issue in scope, not only changed ones.")
@click.option("--reconcile", is_flag=True,
              help="Also remove issues Jira no longer returns (deleted or moved out of scope).")
@click.option("--new-scope", is_flag=True,
              help="The config's scope changed: move the store to it, removing issues "
                   "outside it.")
@click.pass_context
def sync_command(ctx: click.Context, full: bool, reconcile: bool, new_scope: bool) -> None:
    """Pull the configured Jira scope into the local store."""
    from jira_pm.sync import sync

    settings = load_settings_from_ctx(ctx)
    conn = open_store(settings)
    try:
        client = make_client(settings, conn, check_scope=not new_scope)
        progress = BarProgress("Syncing issues") if BarProgress.wanted() else None
        result = sync(settings, conn, client, full=full,
                      reconcile=True if reconcile else None, progress=progress,
                      new_scope=new_scope)
    except LockBusy as busy:
        # Only `run` (cron) treats an overlap as fine; a person who asked to sync got nothing.
        raise UsageError(busy.message, hint=busy.hint) from None
    finally:
        conn.close()
    click.echo(result.summary())
