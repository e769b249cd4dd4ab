"""`jira-pm report`: the static status site (portfolio, one page per project, report.json)."""

from __future__ import annotations

from pathlib import Path

import click

from jira_pm.cli.common import echo, load_settings_from_ctx, project_keys
from jira_pm.cli.main import main

DEFAULT_OUT = Path("jira-pm-report")


@main.command("report")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_OUT,
              show_default=True, help="Folder to write index.html, the project pages and "
              "report.json into.")
@click.option("--project", "projects", multiple=True, callback=project_keys,
              help="Only this project (repeatable; default: the configured scope).")
@click.option("--as-of", "as_of_text", default=None, metavar="DATE|DATETIME",
              help="Report as of this moment (a date means the end of that day in the "
                   "configured time zone).")
@click.option("--open", "open_it", is_flag=True, help="Open the portfolio page in a browser.")
@click.pass_context
def report(ctx, out, projects, as_of_text, open_it):
    """Write the status report: a self-contained static site, readable from disk.

    Needs only the store (no Jira): run `jira-pm sync` first. Nothing is recorded.
    """
    from jira_pm.calendar import calendar_from_settings
    from jira_pm.statusreport import generate

    settings = load_settings_from_ctx(ctx)
    as_of = calendar_from_settings(settings).parse_as_of(as_of_text) if as_of_text else None
    index = generate(settings, out, projects=tuple(projects), as_of=as_of)
    echo(f"report written: {index}")
    if open_it:
        import webbrowser

        webbrowser.open(index.resolve().as_uri())
