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


class ErrorHandlingGroup(click.Group):
    """Turns a JiraPmError into one line on stderr and its exit code.

    With ``--debug`` the traceback is printed too. Anything else unexpected is
    reported as a bug in one line (exit 2) rather than a wall of traceback.
    """

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except JiraPmError as exc:
            if _debug(ctx):
                traceback.print_exc()
            click.echo(f"jira-pm: error: {exc.one_line()}", err=True)
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

            if _debug(ctx):
                traceback.print_exc()
            error = store_error(exc, (ctx.find_root().obj or {}).get("store_path"))
            click.echo(f"jira-pm: error: {error.one_line()}", err=True)
            ctx.exit(error.exit_code)
        except KeyboardInterrupt:
            click.echo("jira-pm: interrupted", err=True)
            ctx.exit(130)
        except Exception as exc:  # a bug: say so in one line, details with --debug
            if _debug(ctx):
                traceback.print_exc()
            click.echo(
                f"jira-pm: internal error: {type(exc).__name__}: {exc} "
                "— rerun with --debug for the traceback and report it",
                err=True,
            )
            ctx.exit(EXIT_USAGE)


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
