"""`jira-pm explain KEY`: every open finding touching one issue, with its evidence in words."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from jira_pm.cli.common import echo, load_settings_from_ctx, open_store
from jira_pm.cli.main import main


@main.command("explain")
@click.argument("key")
@click.option("--as-of", "as_of_text", default=None, metavar="DATE|DATETIME",
              help="Explain as of this moment (a date means the end of that day).")
@click.pass_context
def explain(ctx, key, as_of_text):
    """Why is this issue flagged: its open findings, their evidence, and what jira-pm wrote.

    Reads the store only (no Jira); records nothing.
    """
    from jira_pm.calendar import calendar_from_settings
    from jira_pm.runner import never_synced_error, require_synced
    from jira_pm.statusreport.explain import explain_lines

    settings = load_settings_from_ctx(ctx)
    calendar = calendar_from_settings(settings)
    as_of = calendar.parse_as_of(as_of_text) if as_of_text else datetime.now(UTC)
    from jira_pm.store.schema import store_exists

    if not store_exists(settings.store):
        raise never_synced_error(settings, "explain")
    conn = open_store(settings, readonly=True)
    try:
        require_synced(conn, settings, "explain")
        for line in explain_lines(conn, settings, key, as_of):
            echo(line)
    finally:
        conn.close()
