"""The ``jira-pm`` click group and the one place errors become exit codes."""

from __future__ import annotations

import logging
import os
import sqlite3
import sys
import traceback

import click

from jira_pm import __version__
from jira_pm.errors import EXIT_OK, EXIT_USAGE, JiraPmError
from jira_pm.redaction import REDACTING_FILTER, redact


def _remember_config(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.find_root().ensure_object(dict)["config_path"] = value


def _remember_debug(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:  # an absent flag must not undo `jira-pm --debug CMD`
        ctx.find_root().ensure_object(dict)["debug"] = True
        logging.getLogger().setLevel(logging.DEBUG)


def _shared_options() -> list[click.Option]:
    """--config and --debug as every subcommand also accepts them (`jira-pm audit --config x`).

    They write into the root context's obj, where the group's own options put
    them, so a command reads one place whichever side of its name they were given.
    """
    return [
        click.Option(["--config", "config_path"], type=click.Path(dir_okay=False),
                     default=None, expose_value=False, callback=_remember_config,
                     help="Path to jira-pm.toml (as `jira-pm --config PATH`)."),
        click.Option(["--debug"], is_flag=True, default=False, expose_value=False,
                     callback=_remember_debug, help="Show tracebacks and debug logs."),
    ]


class SharedOptionsGroup(click.Group):
    """A group whose every subcommand (nested groups' too) accepts --config and --debug."""

    group_class = type  # nested groups (`rules`, `sandbox`) are built by this class too

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        taken = {opt for param in cmd.params for opt in getattr(param, "opts", ())}
        cmd.params.extend(o for o in _shared_options() if not taken & set(o.opts))
        super().add_command(cmd, name)


class ErrorHandlingGroup(SharedOptionsGroup):
    """Turns a JiraPmError into one line on stderr and its exit code.

    With ``--debug`` the traceback is printed too. Anything else unexpected is
    reported as a bug in one line (exit 2) rather than a wall of traceback.
    Every line and traceback goes through ``redact``: an exception's text may
    quote a credential (``Invalid header value b'Bearer …'``).
    """

    group_class = SharedOptionsGroup  # errors are handled once, here at the root

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except JiraPmError as exc:
            _traceback(ctx)
            _say(f"jira-pm: error: {exc.one_line()}")
            ctx.exit(exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except BrokenPipeError:
            # `jira-pm audit | head`: the reader left; that is not an error. Point
            # stdout at devnull so the interpreter's final flush stays quiet too.
            try:
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            except (OSError, ValueError):  # stdout is not a real file (a test runner)
                pass
            ctx.exit(EXIT_OK)
        except sqlite3.DatabaseError as exc:
            # The store opened but failed later (a read-only file, a lock held too long,
            # a damaged page): a store problem for the user, named by sqlite's code.
            from jira_pm.store.schema import store_error

            _traceback(ctx)
            error = store_error(exc, (ctx.find_root().obj or {}).get("store_path"))
            _say(f"jira-pm: error: {error.one_line()}")
            ctx.exit(error.exit_code)
        except KeyboardInterrupt:
            click.echo("jira-pm: interrupted", err=True)
            ctx.exit(130)
        except Exception as exc:  # a bug: say so in one line, details with --debug
            _traceback(ctx)
            _say(
                f"jira-pm: internal error: {type(exc).__name__}: {exc} "
                "— rerun with --debug for the traceback and report it"
            )
            ctx.exit(EXIT_USAGE)


def _say(line: str) -> None:
    click.echo(redact(line), err=True)


def _traceback(ctx: click.Context) -> None:
    """With --debug, the current exception's traceback on stderr, secrets masked."""
    if _debug(ctx):
        click.echo(redact(traceback.format_exc()).rstrip("\n"), err=True)


def _debug(ctx: click.Context) -> bool:
    root = ctx.find_root()
    return bool(root.obj and root.obj.get("debug"))


@click.group(cls=ErrorHandlingGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="jira-pm")
@click.option(
    "--debug", is_flag=True, help="Show tracebacks and debug logs (secrets stay redacted)."
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    envvar="JIRA_PM_CONFIG",
    help="Path to jira-pm.toml (default: $JIRA_PM_CONFIG, then ./jira-pm.toml).",
)
@click.pass_context
def main(ctx: click.Context, debug: bool, config_path: str | None) -> None:
    """jira-pm flags scope creep, overdue milestones and budget breaches in Jira,
    and writes them back as labels and comments."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    ctx.obj["config_path"] = config_path
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for handler in logging.getLogger().handlers:  # any module's log line, not only http's
        handler.addFilter(REDACTING_FILTER)
