"""`jira-pm clean [--dry-run] [--comments]`: remove every label (and comment) jira-pm wrote."""

from __future__ import annotations

import click

from jira_pm.cli.common import load_settings_from_ctx, make_client
from jira_pm.cli.main import main
from jira_pm.errors import JiraPmError, LockBusy, UsageError

UNDO_NOTE = ("note: clean is an undo, not a stop — while the rule pack still flags these "
             "issues, the next `jira-pm run` or `apply` writes their labels{comments} again; "
             "take jira-pm out of cron first if it should stay off")


@main.command("clean")
@click.option("--dry-run", is_flag=True, help="List what would be removed; write nothing.")
@click.option("--comments", is_flag=True, help="Also delete the comments jira-pm posted "
              "(by the ledger, and by marker on the issues in the store).")
@click.pass_context
def clean_command(ctx: click.Context, dry_run: bool, comments: bool) -> None:
    """Remove every label jira-pm owns from the issues in scope (and, asked, its comments).

    Writes go through the ledger as in `apply`, under the same lock, so a rerun
    finishes what a killed clean started.
    """
    from jira_pm.rulepack import load_pack
    from jira_pm.runner import never_synced_error, store_lock, writeback_lines
    from jira_pm.store import connect, ledger
    from jira_pm.store.sync_state import never_synced
    from jira_pm.writeback.clean import clean_from_store
    from jira_pm.writeback.from_store import new_run_id

    settings = load_settings_from_ctx(ctx)
    from jira_pm.store.schema import store_exists

    if not store_exists(settings.store):
        raise never_synced_error(settings, "clean")
    pack_labels = load_pack(settings).owned_labels()
    run_id = new_run_id()
    try:
        with store_lock(settings):
            conn = connect(settings.store)
            try:
                if never_synced(conn):
                    raise never_synced_error(settings, "clean")
                client = make_client(settings, conn)
                if dry_run:
                    result = clean_from_store(conn, client, settings, run_id,
                                              pack_labels=pack_labels, comments=comments,
                                              dry_run=True)
                else:
                    ledger.start_run(conn, run_id, "clean")
                    try:
                        result = clean_from_store(conn, client, settings, run_id,
                                                  pack_labels=pack_labels, comments=comments)
                    except JiraPmError as exc:
                        ledger.finish_run(conn, run_id, "error", {"error": exc.one_line()})
                        raise
                    outcome = result.outcome
                    ledger.finish_run(conn, run_id, "partial" if result.exit_code else "ok", {
                        "writes_done": len(outcome.done), "writes_failed": len(outcome.failed),
                    })
            finally:
                conn.close()
    except LockBusy as busy:
        # As for `apply`: a person (or a decommissioning script) who asked for the undo
        # and got nothing must see a failure, not exit 0.
        raise UsageError(busy.message, hint="wait for that run to finish, then clean again "
                         "(or check for a hung run)") from None
    for line in writeback_lines(result, dry_run, limit=10_000):
        click.echo(line)
    click.echo(UNDO_NOTE.format(comments=" and comments" if comments else ""))
    ctx.exit(result.exit_code)
