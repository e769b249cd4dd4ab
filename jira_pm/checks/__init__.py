"""Checks: pure functions of the domain model that report findings.

One module per check; ``codes`` is the central table of rule codes and
``registry`` finds checks (built-in, and plugins from the ``jira_pm.checks``
entry point group). A check's docstring is its documentation.
"""

from jira_pm.checks.registry import (
    CheckSpec,
    Hit,
    Param,
    all_checks,
    check,
    get_check,
)

__all__ = ["CheckSpec", "Hit", "Param", "all_checks", "check", "get_check"]
