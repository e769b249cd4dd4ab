"""`jira-pm status`: the last sync, issue counts and open findings, from the store alone."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import click

from jira_pm.cli.common import load_settings_from_ctx, open_store
from jira_pm.cli.main import main


def _when(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value else "never"


def _resume_point(checkpoint: dict[str, Any]) -> str:
    """Where the next `jira-pm sync` resumes, from a checkpoint's id-range chains."""
    mode = checkpoint.get("mode") or "full"
    started = checkpoint.get("started")
    what = f"{mode} sync" + (f" started {started}" if started else "")
    chains = checkpoint.get("chains") or []
    open_chains = [c for c in chains if not c.get("done")]
    if not open_chains:
        return f"{what}; resumes with its last steps (all issue pages are saved)"
    points = []
    for chain in open_chains:
        after = chain.get("after")
        if after is not None:
            points.append(f"after issue id {after}")
        elif chain.get("low") is not None:
            points.append(f"from issue id {chain['low']}")
        else:
            points.append("from the start")
    if len(chains) == 1:
        return f"{what}; resumes {points[0]}"
    return (f"{what}; {len(open_chains)} of {len(chains)} id ranges left, resuming "
            + ", ".join(points))


@main.command("status")
@click.pass_context
def status_command(ctx: click.Context) -> None:
    """Show the last sync, issue counts per project and open findings, from the store."""
    from jira_pm.store.issues import count_issues_by_project, get_meta, get_sync_state
    from jira_pm.sync import scope_key

    settings = load_settings_from_ctx(ctx)
    if not Path(settings.store_path).exists():  # say so, and create nothing at a wrong path
        click.echo(f"store: {settings.store_path} (no store yet)")
        click.echo(f"site: {settings.jira.url} (not synced)")
        click.echo("last sync: never (run `jira-pm sync`)")
        return
    conn = open_store(settings, readonly=True)
    try:
        state = get_sync_state(conn, scope_key(settings))
        click.echo(f"store: {settings.store_path}")
        click.echo(f"site: {settings.jira.url} ({get_meta(conn, 'deployment') or 'not synced'})")
        if state.cursor is None and state.checkpoint is None:
            click.echo("last sync: never (run `jira-pm sync`)")
        else:
            click.echo(f"last sync cursor: {_when(state.cursor)}")
            click.echo(f"last full sync: {_when(state.last_full)}")
            click.echo(f"last reconcile: {_when(state.last_reconcile)}")
            if state.checkpoint:
                click.echo(f"interrupted sync: {_resume_point(state.checkpoint)}")
        counts = count_issues_by_project(conn)
        click.echo(f"issues: {sum(counts.values())}")
        for project, count in counts.items():
            click.echo(f"  {project}: {count}")
        versions = conn.execute("SELECT COUNT(*) FROM versions").fetchone()[0]
        sprints = conn.execute("SELECT COUNT(*) FROM sprints").fetchone()[0]
        click.echo(f"versions: {versions}, sprints: {sprints}")
        if conn.execute("SELECT EXISTS(SELECT 1 FROM findings)").fetchone()[0]:
            open_count = conn.execute(
                "SELECT COUNT(*) FROM findings WHERE resolved_at IS NULL"
            ).fetchone()[0]
            click.echo(f"open findings: {open_count}")
    finally:
        conn.close()
