"""Fetch → map → save: full and incremental sync, checkpoints, completion, reconcile.

One run (``syncer.Syncer``; see docs/sync.md):

1. Site facts, cached in ``meta`` and refreshed on a full sync: deployment,
   Jira's clock skew, the user's time zone (JQL dates are read in it), field
   discovery, statuses.
2. Search pages in id order (``expand=changelog``, only the fields jira-pm
   reads); incremental runs ask ``updated >= cursor − overlap`` in the Jira
   user's time zone at minute resolution (``query``). A large Cloud full sync
   pages several disjoint id ranges concurrently (``pages.merged``).
3. Per page, in the saving thread: decode it (the chain's thread only fetches,
   and asks for the next page once the decode says where it starts), start the
   requests completing truncated worklog lists (``/issue/{id}/worklog``) and, on
   DC, truncated changelogs on a pool (``completion``), and save it once they
   are answered, other pages meanwhile; Cloud's truncated changelogs wait for one
   bulkfetch per 1,000 issues. The page, its sprints and the checkpoint commit
   in ONE transaction; a killed run resumes from it.
4. Versions per project, then the cursor moves to the run's start (on
   Jira's clock). An uninterrupted full sync, ``--reconcile`` or the
   ``reconcile_every_hours`` timer removes issues Jira no longer returns once
   GET /issue confirms it.
"""

from __future__ import annotations

from jira_pm.sync.query import jql_since, page_jql, scope_jql, scope_key
from jira_pm.sync.syncer import Progress, Syncer, SyncResult, known_deployment, sync

__all__ = [
    "Progress",
    "SyncResult",
    "Syncer",
    "jql_since",
    "known_deployment",
    "page_jql",
    "scope_jql",
    "scope_key",
    "sync",
]
