"""The command line: a thin click layer (parse, call, print, exit code).

``main`` is the group; each ``*_cmd`` module here adds one family of commands
to it when imported. No other module imports from this package.
"""

from jira_pm.cli import apply_cmd  # noqa: F401  (registers apply, run, demo)
from jira_pm.cli import audit_cmd  # noqa: F401  (registers audit, rules list|explain)
from jira_pm.cli import sandbox_cmd  # noqa: F401  (registers sandbox serve)
from jira_pm.cli import setup_cmd  # noqa: F401  (registers init, doctor)
from jira_pm.cli import sync_cmd  # noqa: F401  (registers sync, status)
from jira_pm.cli.main import main

__all__ = ["main"]
