"""The command line: a thin click layer (parse, call, print, exit code).

``main`` is the group; each ``*_cmd`` module here adds one family of commands
to it when imported. No other module imports from this package.
"""

# Importing a command module registers its commands on ``main``.
from jira_pm.cli import (  # noqa: F401
    apply_cmd,  # apply, run, demo
    audit_cmd,  # audit, rules list|explain
    clean_cmd,  # clean
    explain_cmd,  # explain
    log_cmd,  # log, unstick
    report_cmd,  # report
    sandbox_cmd,  # sandbox serve
    setup_cmd,  # init, doctor
    status_cmd,  # status
    sync_cmd,  # sync
)
from jira_pm.cli.main import main

__all__ = ["main"]
