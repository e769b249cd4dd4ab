"""Helpers every command module shares: settings, store, client, and quiet-aware output."""

from __future__ import annotations

import sqlite3
import sys
from typing import TYPE_CHECKING, Any, TextIO

import click

if TYPE_CHECKING:
    from jira_pm.config import Settings
    from jira_pm.jira.client import JiraClient


def load_settings_from_ctx(ctx: click.Context) -> Settings:
    """The settings for this invocation: --config, else $JIRA_PM_CONFIG, else ./jira-pm.toml."""
    from jira_pm.config import load_settings

    root = ctx.find_root()
    path = (root.obj or {}).get("config_path")
    settings = load_settings(path)
    if isinstance(root.obj, dict):  # lets the error handler name the store a sqlite error is about
        root.obj["store_path"] = settings.store
    return settings


def open_store(settings: Settings, *, readonly: bool = False) -> sqlite3.Connection:
    """The migrated SQLite store at ``settings.store_path`` (StoreError when unusable).

    ``readonly`` opens it with sqlite's mode=ro, for commands that only read: they
    work on a store this user may not write, and never create one.
    """
    from jira_pm.store import connect

    return connect(settings.store, readonly=readonly)


def make_client(settings: Settings, conn: Any = None, *, credentials_notice: bool = True,
                check_scope: bool = True, **http_options: Any) -> JiraClient:
    """A JiraClient for the configured site; sends nothing until first used.

    With both a PAT and an e-mail + API token set, a terminal is told which one is
    sent (``credentials_notice=False``: the caller says so itself, as doctor does).

    Given the store, the client reuses the deployment (Cloud or Server) the last
    full sync saw, which saves the serverInfo request on every cron run; and a
    store that belongs to another site, or holds another scope's issues (unless
    ``check_scope`` is off: ``sync --new-scope``), is refused with ConfigError
    before anything is sent (see ``jira_pm.sync.identity``).
    """
    from jira_pm.jira.client import JiraClient
    from jira_pm.jira.http import JiraHttp, unused_credentials

    unused = unused_credentials(settings.jira)
    if unused and credentials_notice:
        note(f"jira-pm: both JIRA_PAT and JIRA_EMAIL/JIRA_API_TOKEN are set; {unused} is not "
             "used (unset it to silence this)")
    deployment = settings.jira.deployment
    if conn is not None:
        from jira_pm.sync import identity, known_deployment

        identity.check_site(conn, settings.jira.url, settings.store_name)
        if check_scope:
            identity.check_scope(conn, settings, settings.store_name)
        deployment = known_deployment(conn, deployment)
    http = JiraHttp.from_settings(settings.jira, **http_options)
    http.add_wait_observer(lambda wait: note(wait.describe()))  # a terminal sees long waits
    return JiraClient(http, deployment=deployment)


def is_terminal(stream: TextIO | None = None) -> bool:
    """True when ``stream`` (stderr by default) is an interactive terminal, not cron or a pipe."""
    stream = stream or sys.stderr
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def echo(message: str = "", *, err: bool = False) -> None:
    """Print a result line (always shown: it is what the user asked for)."""
    click.echo(message, err=err)


def note(message: str) -> None:
    """Print progress chatter to stderr only on a terminal, so cron mail stays quiet."""
    if is_terminal(sys.stderr):
        click.echo(message, err=True)


def mark(ok: bool | None, stream: TextIO | None = None) -> str:
    """✓ / ✗ / ! for a check line, or ASCII when the output cannot encode them."""
    symbol = {True: "✓", False: "✗", None: "!"}[ok]
    encoding = getattr(stream or sys.stdout, "encoding", None) or "ascii"
    try:
        symbol.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        symbol = {True: "OK", False: "FAIL", None: "WARN"}[ok]
    return symbol


class BarProgress:
    """Progress on stderr, only when stderr is a terminal (quiet in cron and pipes).

    With a total it is click's bar with counts ("Writing to Jira [####    ] 120/500");
    without one (Data Center does not say how many issues a search will return) it
    is a running count ("Syncing issues: 500"), never a bar over a total of 0.
    """

    def __init__(self, label: str) -> None:
        self.label = label
        self._bar: Any = None
        self._count: int | None = None

    @staticmethod
    def wanted() -> bool:
        return is_terminal(sys.stderr)

    def start(self, total: int | None) -> None:
        if not total:
            self._count = 0
            self._show_count()
            return
        self._bar = click.progressbar(length=total, label=self.label, file=sys.stderr,
                                      show_pos=True)
        self._bar.__enter__()

    def advance(self, count: int) -> None:
        if self._count is not None:
            self._count += count
            self._show_count()
        elif self._bar is not None:
            if self._bar.pos + count > self._bar.length:
                self._bar.length = self._bar.pos + count  # an approximate total was low
            self._bar.update(count)

    def finish(self) -> None:
        if self._count is not None:
            click.echo("", err=True)
            self._count = None
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None

    def _show_count(self) -> None:
        click.echo(f"\r{self.label}: {self._count:,}", err=True, nl=False)


def project_keys(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
                 ) -> tuple[str, ...]:
    """A ``--project`` option's keys as Jira spells them (upper case): ``shop`` is SHOP."""
    return tuple(value.upper() for value in values)
