"""A local Jira-compatible site (Cloud and Data Center flavours) for tests, demo and benchmarks.

``from jira_pm.sandbox import Sandbox``; see docs/sandbox.md.
"""

from __future__ import annotations

from jira_pm.sandbox.server import Sandbox

__all__ = ["Sandbox"]
