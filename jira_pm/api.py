"""jira-pm from Python: sync, audit, apply and run with a connection you already have.

The command line reads the connection from ``jira-pm.toml`` and the
environment. A program that already holds a ``jira.JIRA`` (from the ``jira``
package, authenticated however that package supports) can hand it in instead;
everything else (scope, store, rules, write-back) still comes from settings::

    from jira import JIRA
    from jira_pm.api import JiraPm

    jira = JIRA("https://example.atlassian.net", basic_auth=(email, token))
    pm = JiraPm.from_jira(jira, "jira-pm.toml")
    pm.sync()
    for finding in pm.audit():
        print(finding.rule_id, finding.message)
    pm.apply(dry_run=True)

See docs/python-api.md.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jira_pm.config import Settings, load_settings
from jira_pm.jira.client import JiraClient
from jira_pm.model import Finding


@dataclass
class JiraPm:
    """One scope of one Jira site: its settings and the client that talks to the site."""

    settings: Settings
    client: JiraClient

    @classmethod
    def from_jira(cls, jira: Any, settings: Settings | str | os.PathLike | None = None,
                  **http_options: Any) -> JiraPm:
        """Use ``jira``'s connection (URL, authentication, TLS) with ``settings``.

        ``settings`` is a Settings or a path to jira-pm.toml (None: the usual
        lookup, ``$JIRA_PM_CONFIG`` then ./jira-pm.toml). Its ``[jira] url``
        is replaced by the JIRA's server and its credentials are not used;
        timeouts and the retry budget come from ``[jira]`` unless
        ``http_options`` say otherwise.
        """
        from jira_pm.jira.adopt import deployment_of_jira, http_from_jira

        if not isinstance(settings, Settings):
            settings = load_settings(settings)
        jira_settings = dataclasses.replace(
            settings.jira, url=jira.server_url.rstrip("/"), email=None, api_token=None, pat=None)
        settings = dataclasses.replace(settings, jira=jira_settings)
        options = {"timeout": jira_settings.timeout_seconds,
                   "max_retry_seconds": jira_settings.max_retry_seconds, **http_options}
        deployment = deployment_of_jira(jira) or jira_settings.deployment
        return cls(settings, JiraClient(http_from_jira(jira, **options), deployment=deployment))

    def sync(self, *, full: bool = False, reconcile: bool | None = None,
             new_scope: bool = False) -> Any:
        """Pull the scope into the store (``jira-pm sync``); returns the SyncResult.

        ``new_scope`` moves a store holding another scope to this one (``sync --new-scope``).
        """
        from jira_pm.store.schema import connect
        from jira_pm.sync import sync

        conn = connect(self.settings.store)
        try:
            return sync(self.settings, conn, self.client, full=full, reconcile=reconcile,
                        new_scope=new_scope)
        finally:
            conn.close()

    def audit(self, as_of: datetime | None = None, *, record: bool = False) -> list[Finding]:
        """The open findings from the store (``jira-pm audit``); recorded only with ``record``."""
        from jira_pm.engine import evaluate_store
        from jira_pm.runner import never_synced_error, require_synced
        from jira_pm.store.schema import connect, store_exists

        if not store_exists(self.settings.store):
            raise never_synced_error(self.settings, "audit")
        conn = connect(self.settings.store, readonly=not record)
        try:
            require_synced(conn, self.settings, "audit")
            return list(evaluate_store(conn, self.settings, None, as_of, record=record).findings)
        finally:
            conn.close()

    def apply(self, *, dry_run: bool = False, as_of: datetime | None = None) -> Any:
        """Evaluate and write back (``jira-pm apply``); returns the ApplyReport."""
        from jira_pm.runner import apply_pipeline

        return apply_pipeline(self.settings, self.client, dry_run=dry_run, as_of=as_of)

    def run(self, *, dry_run: bool = False, as_of: datetime | None = None) -> Any:
        """Sync, evaluate and write back under the run lock (``jira-pm run``); the RunReport."""
        from jira_pm.runner import run_pipeline

        return run_pipeline(self.settings, self.client, dry_run=dry_run, as_of=as_of)
