"""``Syncer``: one sync of one scope into one store, through one JiraClient."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from jira_pm.config import DEFAULT_CONFIG_NAME
from jira_pm.errors import ConfigError, JiraJqlRejected
from jira_pm.gcpause import collector_paused
from jira_pm.jira.http import resume_sending
from jira_pm.jira.search import PendingPage
from jira_pm.mapping import (
    FieldMap,
    discover_fields,
    map_changelog,
    map_issue,
    map_status,
    map_version,
    parse_jira_datetime,
    sprints_of,
)
from jira_pm.store.issues import (
    FULL_SYNC_DUE,
    delete_issues,
    delete_meta,
    get_meta,
    get_sync_state,
    issue_ids,
    replace_changes,
    save_issues,
    save_sprints,
    save_statuses,
    save_versions,
    set_meta,
    set_sync_state,
    transaction,
)
from jira_pm.store.locks import sync_lock
from jira_pm.store.sync_state import LAST_SYNC, stored_changelog_ids
from jira_pm.sync.completion import VANISHED, Backlog, Completion, PageCompletion, fetch_one
from jira_pm.sync.identity import (
    SCOPE_MOVED,
    check_scope,
    check_site,
    record_scope,
    record_site,
    scope_changes,
)
from jira_pm.sync.pages import changelog_truncated, merged, worklogs_truncated
from jira_pm.sync.query import (
    ISSUE_EXPAND,
    chain_jql,
    issue_fields,
    jql_since,
    new_chain,
    page_jql,
    scope_jql,
    scope_key,
)
from jira_pm.words import plural

if TYPE_CHECKING:
    from jira_pm.config import Settings
    from jira_pm.jira.client import JiraClient

log = logging.getLogger(__name__)

BULKFETCH_BATCH = 1000  # issues per POST /changelog/bulkfetch (Jira's limit)
MIN_ISSUES_PER_CHAIN = 1000  # ten Cloud pages: below that, a parallel chain is not worth its ids
# What a resumed run carries over from the checkpoint, so its summary counts the whole sync.
CARRIED_COUNTS = ("pages", "issues", "changes", "worklogs", "skipped")
# What saving a page adds to a SyncResult: put back when the page's save is cut short.
_COUNTED = (*CARRIED_COUNTS, "changelogs_completed", "worklogs_completed",
            "changelogs_missing")


class Progress(Protocol):
    """What sync reports to a progress bar (the CLI's; tests may pass their own)."""

    def start(self, total: int | None) -> None: ...
    def advance(self, issues: int) -> None: ...
    def finish(self) -> None: ...


@dataclass
class SyncResult:
    """What one sync did."""

    mode: str  # "full" or "incremental"
    resumed: bool = False
    pages: int = 0
    issues: int = 0
    changes: int = 0
    worklogs: int = 0
    versions: int = 0
    sprints: int = 0
    changelogs_completed: int = 0
    worklogs_completed: int = 0
    skipped: int = 0  # issues that vanished between the search and a follow-up request
    caught_up: int = 0  # issues a resumed run fetched again because they changed meanwhile
    changelogs_missing: int = 0  # search answers without the changelog asked for
    reconciled: bool = False
    deleted: int = 0
    requests: int = 0
    elapsed: float = 0.0
    cursor: datetime | None = None

    def summary(self) -> str:
        text = (
            f"{self.mode} sync: {plural(self.issues, 'issue')} "
            f"({plural(self.changes, 'changelog item')}, {plural(self.worklogs, 'worklog')}), "
            f"{plural(self.versions, 'version')}, {plural(self.sprints, 'sprint')} "
            f"in {plural(self.pages, 'page')}; {plural(self.requests, 'request')} "
            f"in {self.elapsed:.1f}s"
        )
        if self.resumed:
            text += "; resumed after an interrupted run"
            if self.caught_up:
                text += (f" ({plural(self.caught_up, 'issue')} changed meanwhile, "
                         "fetched again)")
        if self.skipped:
            text += (f"; {plural(self.skipped, 'issue')} skipped (deleted, moved or hidden "
                     "during the sync; the next reconcile settles them)")
        if self.changelogs_missing:
            text += (f"; warning: search answered {plural(self.changelogs_missing, 'issue')} "
                     "without the changelog asked for (a proxy or plugin dropping "
                     "expand=changelog?), fetched separately")
        if self.reconciled:
            text += f"; reconciled: {self.deleted} removed"
        return text


class Syncer:
    """One sync of one scope into one store, through one JiraClient."""

    def __init__(
        self,
        settings: Settings,
        conn: sqlite3.Connection,
        client: JiraClient,
        *,
        progress: Progress | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        self.settings = settings
        self.conn = conn
        self.client = client
        self.progress = progress
        self.now = now
        self.scope = scope_key(settings)
        self.parallel = max(1, min(16, settings.jira.max_parallel))
        # Issues saved with a truncated changelog, awaiting one bulkfetch (Cloud).
        self._pending: list[int] = []
        self._seen: set[int] | None = None  # ids a full sync has fetched so far
        # A Cloud full sync splits into parallel id ranges only above this many issues each.
        self.min_issues_per_chain = MIN_ISSUES_PER_CHAIN
        # False: search without expand=changelog, so every changelog comes from
        # bulkfetch (Cloud) — the alternative bench/bench_sync.py measures.
        self.changelog_in_search = True

    # -- entry point

    def run(self, *, full: bool = False, reconcile: bool | None = None,
            new_scope: bool = False) -> SyncResult:
        # Buffered search pages are hundreds of thousands of live objects the cyclic
        # collector would rescan every few pages (a third of decoding's CPU at 100k).
        with collector_paused():
            return self._run(full=full, reconcile=reconcile, new_scope=new_scope)

    def _run(self, *, full: bool, reconcile: bool | None, new_scope: bool) -> SyncResult:
        started_clock = time.monotonic()
        requests_before = self._requests()
        # A store belongs to one site: ids collide across sites (see sync.identity);
        # and to one scope, whose sync removes what it does not return.
        url = self.settings.jira.url
        check_site(self.conn, url, self.settings.store_name)
        if not new_scope:
            check_scope(self.conn, self.settings, self.settings.store_name)
        # --new-scope always syncs in full and reconciles: run again, it repairs a store
        # whose recorded scope and issues disagree, whatever left it so.
        moved = new_scope or scope_changes(self.conn, self.settings, self.scope)
        if moved:
            full = True  # the other scope's reconcile may have removed this one's issues
        state = get_sync_state(self.conn, self.scope)
        checkpoint = state.checkpoint
        cached = get_meta(self.conn, "field_map")
        if cached and cached.get("overrides") != self._override_key():
            # Stored issues were mapped with other [fields]: map them all again.
            full, checkpoint = True, None
        due = get_meta(self.conn, FULL_SYNC_DUE)
        if due:
            # A migration added data only a fetch fills in (see store.schema); a full
            # checkpoint left by this version of jira-pm still resumes.
            log.info("full sync: %s", due)
            full = True
        if full and checkpoint and checkpoint.get("mode") != "full":
            checkpoint = None  # an interrupted incremental is superseded by this full run
        mode = "full" if full or state.cursor is None else "incremental"
        if checkpoint and not full:
            mode = checkpoint.get("mode", mode)
        result = SyncResult(mode=mode, resumed=bool(checkpoint))

        # A move reconciles in this run, whatever reconcile_every_hours says.
        reconcile_due = moved or self._reconcile_due(state, reconcile, mode)
        # Facts also refresh with each reconcile, so a changed user time zone or
        # clock is picked up within reconcile_every_hours, not only on --full.
        fields = self._site_facts(cached, refresh=(mode == "full" and not checkpoint)
                                  or reconcile_due)
        if moved:
            # Claim the store for a new scope only once Jira accepts its query: a typo'd
            # project must leave the store with the scope it holds, not one nobody can sync.
            self._accepted_by_jira(scope_jql(self.settings))
        with transaction(self.conn):  # the first sync to get this far claims the store
            record_site(self.conn, url)
            record_scope(self.conn, self.settings, self.scope, moved=moved)
        if cached and mode != "full" and FieldMap.from_dict(cached["map"]) != fields:
            # Jira now names other fields (say a new story point field): remap everything.
            mode, checkpoint = "full", None
            result = SyncResult(mode=mode)
        # Cursors are instants on Jira's clock (see _site_facts), so a skewed local
        # clock cannot make an incremental sync miss changes.
        started = self._jira_now()
        base = scope_jql(self.settings)
        if checkpoint:
            self._pending = [int(i) for i in checkpoint.get("pending_changelogs") or []]
            for name, value in (checkpoint.get("counts") or {}).items():
                if name in CARRIED_COUNTS:
                    setattr(result, name, int(value))
            since = checkpoint.get("since")
            chains = checkpoint.get("chains") or [new_chain()]
            run_started = datetime.fromisoformat(checkpoint["started"])
        else:
            since = None
            if mode == "incremental":
                since = self._since(state.cursor)
            chains = None
            run_started = started
        # An uninterrupted full sync sees every id in scope: what the store holds
        # beyond that is a reconcile candidate, with no ids search needed.
        self._seen = set() if mode == "full" and not checkpoint else None
        # True when this run ends a full sync: its own, or the one whose catch-up
        # pass (below) an earlier run was killed in.
        finishes_full = mode == "full" or bool(checkpoint and checkpoint.get("finishes_full"))
        self._fetch_issues(result, fields, base, since, chains, mode, run_started)
        seen, self._seen = self._seen, None
        if checkpoint:
            # Issues below the checkpoint may have changed while the run was down:
            # catch up from the interrupted run's start before moving the cursor.
            set_sync_state(self.conn, self.scope, cursor=run_started, checkpoint=None)
            catch_up = SyncResult(mode="incremental")
            self._fetch_issues(catch_up, fields, base, self._since(run_started), None,
                               "incremental", started, finishes_full=finishes_full)
            # Those issues were mostly counted already: the summary names them apart.
            result.caught_up = catch_up.issues
            result.pages += catch_up.pages
            result.skipped += catch_up.skipped
            result.changelogs_completed += catch_up.changelogs_completed
            result.worklogs_completed += catch_up.worklogs_completed
            result.changelogs_missing += catch_up.changelogs_missing
            run_started = started
        self._sync_versions(result)

        with transaction(self.conn):
            set_sync_state(
                self.conn, self.scope, cursor=run_started, checkpoint=None,
                **({"last_full": started} if finishes_full else {}),
            )
            if mode == "full":
                delete_meta(self.conn, FULL_SYNC_DUE)  # every issue now has what it lacked
            # For `jira-pm status`: the last sync that finished, its mode and size.
            set_meta(self.conn, LAST_SYNC, {
                "mode": mode, "finished": self.now().isoformat(timespec="seconds"),
                "issues": result.issues})
        if seen is not None:
            self._remove_missing(result, issue_ids(self.conn) - seen)
            self._reconciled(started)
        elif reconcile_due:
            self.reconcile(result, base)
            self._reconciled(started)

        result.cursor = run_started
        result.requests = self._requests() - requests_before
        result.elapsed = time.monotonic() - started_clock
        return result

    def _requests(self) -> int:
        return self.client.http.requests_sent

    def _since(self, instant: datetime) -> str:
        """The JQL date to search from: ``instant`` less the overlap, in the user's zone."""
        overlap = timedelta(minutes=float(self.settings.sync.overlap_minutes))
        return jql_since(instant - overlap, get_meta(self.conn, "user_timezone"))

    # -- site facts

    def _site_facts(self, cached: dict[str, Any] | None, *, refresh: bool) -> FieldMap:
        """Deployment, time zone, field map and statuses: from ``meta`` (``cached`` is its
        field map), or Jira when stale."""
        override_key = self._override_key()
        if not refresh and cached and cached.get("overrides") == override_key:
            return FieldMap.from_dict(cached["map"])
        info = self.client.server_info()
        server_time = parse_jira_datetime(info.get("serverTime"))
        skew = (server_time - self.now()).total_seconds() if server_time else 0.0
        me = self.client.myself()
        field_map = discover_fields(self.client.fields(), self.settings.fields)
        statuses = [map_status(s) for s in self.client.statuses()]
        with transaction(self.conn):
            set_meta(self.conn, "deployment", self.client.deployment())
            set_meta(self.conn, "clock_skew", skew)
            set_meta(self.conn, "user_timezone", me.get("timeZone") or "UTC")
            set_meta(
                self.conn, "field_map", {"map": field_map.as_dict(), "overrides": override_key}
            )
            save_statuses(self.conn, statuses)
        return field_map

    def _override_key(self) -> dict[str, str | None]:
        overrides = self.settings.fields
        return {name: getattr(overrides, name) for name in FieldMap.__dataclass_fields__}

    # -- issues

    def _fetch_issues(
        self,
        result: SyncResult,
        fields: FieldMap,
        base: str,
        since: str | None,
        chains: list[dict[str, Any]] | None,
        mode: str,
        run_started: datetime,
        *,
        finishes_full: bool = False,
    ) -> None:
        """Page through the query (in one or several id-range chains) and save each page."""
        wanted = issue_fields(fields)
        sprint_ids: set[int] = set()
        # Every checkpoint this run saves carries the changelogs still awaiting bulkfetch,
        # including those a resumed run inherited: a chain may end, and save it, before
        # any page does.
        checkpoint: dict[str, Any] = {"mode": mode, "since": since,
                                      "started": run_started.isoformat(),
                                      "pending_changelogs": self._pending}
        if finishes_full:
            checkpoint["finishes_full"] = True
        try:
            total: int | None = None
            if chains is None:
                chains, total = self._plan_chains(base, since)
            checkpoint["chains"] = chains
            if finishes_full:  # at once: a kill before its first page must not lose the flag
                self._save_checkpoint(checkpoint, result)
            if self.progress is not None:
                if total is None:
                    total = self._approximate_count(page_jql(base, since, None))
                self.progress.start(total)
            # Each chain's thread only fetches; this thread decodes each page, starts its
            # follow-up requests (truncated worklogs, DC changelogs) on the pool and saves
            # it once they are answered, decoding the pages after it meanwhile.
            with ThreadPoolExecutor(self.parallel,
                                    thread_name_prefix="jira-pm-complete") as follow_ups:
                streams = [
                    (index, self.client.search(chain_jql(base, since, chain), wanted,
                                               expand=list(ISSUE_EXPAND)
                                               if self.changelog_in_search else [],
                                               deferred=True))
                    for index, chain in enumerate(chains) if not chain["done"]
                ]
                self._save_pages(streams, follow_ups, chains, checkpoint, result, fields,
                                 sprint_ids)
            self._flush_changelogs(result, checkpoint)
        except JiraJqlRejected as exc:  # only the search's JQL is the scope's fault
            raise self._rejected(exc) from exc
        finally:
            if self.progress is not None:
                self.progress.finish()

    def _save_pages(self, streams: list[tuple[int, Any]], follow_ups: ThreadPoolExecutor,
                    chains: list[dict[str, Any]], checkpoint: dict[str, Any],
                    result: SyncResult, fields: FieldMap, sprint_ids: set[int]) -> None:
        """Decode, complete, map and save each page with the checkpoint, one transaction a page.

        A page that comes in is decoded and its follow-up requests started at once
        (its chain waits for the decode to ask for the next page); pages are saved
        while none is coming in, in order within a chain (see ``Backlog``). Decoded
        pages of more than ``parallel`` × 100 issues in all wait only while no page
        of theirs can be saved.
        """
        backlog = Backlog(limit=self.parallel * 100)

        cut_short: set[int] = set()  # chains whose first page failed to save

        def save(index: int, *, flush: bool = True) -> None:
            page, completion = backlog.first(index)
            try:
                self._save_page(index, page, completion, chains, checkpoint, result, fields,
                                sprint_ids, flush=flush)
            except BaseException:
                cut_short.add(index)
                raise
            backlog.saved(index)

        def save_one_ready() -> bool:
            index = backlog.next_ready()
            if index is not None:
                save(index)
            return index is not None

        def save_next() -> None:  # waits for follow-ups only when no page can be saved now
            ready = backlog.next_ready()
            save(backlog.next_oldest() if ready is None else ready)

        with closing(merged(streams, idle=save_one_ready)) as pages:
            try:
                for index, item in pages:
                    if item is None:  # this chain reached its end, once its pages are saved
                        backlog.add(index, None, None)
                    else:
                        page = item.issues() if isinstance(item, PendingPage) else item
                        if page:
                            backlog.add(index, page, self._begin_completion(page, follow_ups))
                    while backlog.full():
                        save_next()
                while backlog:
                    save_next()
            except BaseException:
                self._keep_what_is_complete(backlog, save, cut_short)
                for completion in backlog.unsaved():
                    completion.cancel()  # requests not sent yet: the error is reported sooner
                raise

    @staticmethod
    def _keep_what_is_complete(backlog: Backlog, save: Callable[..., None],
                               cut_short: set[int]) -> None:
        """After a failure, save the pages whose follow-ups are answered, as far as they go.

        A chain failed or the run was interrupted: the pages already fetched are kept,
        so a resumed run starts after them. A chain whose page failed to save keeps that
        page first (see ``Backlog``) and saves nothing more; the others go on. No
        bulkfetch is sent meanwhile: the pending changelogs stay in the checkpoint.
        """
        while (index := backlog.next_ready(skip=cut_short)) is not None:
            try:
                save(index, flush=False)
            except Exception:
                log.debug("a page fetched before the failure could not be saved", exc_info=True)

    def _save_page(self, index: int, page: list[dict] | None, completion: PageCompletion | None,
                   chains: list[dict[str, Any]], checkpoint: dict[str, Any],
                   result: SyncResult, fields: FieldMap, sprint_ids: set[int], *,
                   flush: bool = True) -> None:
        """Save one completed page and its checkpoint (or, ``page`` None, mark its chain done).

        Nothing the checkpoint carries (the chain's last id, the pending changelogs,
        the counts) changes unless the page's transaction commits: a save cut short
        leaves the next checkpoint as it was.
        """
        chain = chains[index]
        if page is None or completion is None:
            chain["done"] = True
            self._save_checkpoint(checkpoint, result)
            return
        done = completion.result()
        kept = [raw for raw in page if int(raw["id"]) not in done.vanished]
        issues = [map_issue(raw, fields) for raw in kept]
        sprints = [s for raw in kept for s in sprints_of(raw, fields)]
        before = (dict(chain), len(self._pending), {n: getattr(result, n) for n in _COUNTED})
        try:
            done.apply(result)
            # The chain moves past a vanished issue too: it is skipped, not retried.
            chain["after"] = max(int(raw["id"]) for raw in page)
            self._pending.extend(done.deferred)
            checkpoint["pending_changelogs"] = self._pending
            result.pages += 1
            result.issues += len(issues)
            result.skipped += len(done.vanished)
            result.changes += sum(len(i.changes) for i in issues)
            result.worklogs += sum(len(i.worklogs) for i in issues)
            with transaction(self.conn):
                save_issues(self.conn, issues, kept, self.now())
                save_sprints(self.conn, sprints)
                self._save_checkpoint(checkpoint, result)
        except BaseException:
            chain.clear()
            chain.update(before[0])
            del self._pending[before[1]:]
            for name, value in before[2].items():
                setattr(result, name, value)
            raise
        if self._seen is not None:
            self._seen.update(issue.id for issue in issues)
        sprint_ids.update(s.id for s in sprints)
        result.sprints = len(sprint_ids)
        if self.progress is not None:
            self.progress.advance(len(issues))
        if flush and len(self._pending) >= BULKFETCH_BATCH:
            self._flush_changelogs(result, checkpoint)

    def _save_checkpoint(self, checkpoint: dict[str, Any], result: SyncResult) -> None:
        """Save ``checkpoint`` with the run's counts so far (a resumed run continues them)."""
        checkpoint["counts"] = {name: getattr(result, name) for name in CARRIED_COUNTS}
        set_sync_state(self.conn, self.scope, checkpoint=checkpoint)

    def _plan_chains(self, base: str, since: str | None) -> tuple[list[dict], int | None]:
        """One search chain, or (a large Cloud full sync) several over disjoint id ranges.

        Cloud's nextPageToken chain is strictly sequential, so a big full sync
        first reads the ids (5,000 a request) and splits them into up to
        ``max_parallel`` ranges of equal size, paged concurrently. The first range
        is open below and the last open above, so nothing created meanwhile is lost.
        """
        if since is not None or self.parallel < 2 or not self.client.is_cloud:
            return [new_chain()], None
        ids = sorted({i for page in self.client.search_ids(base) for i in page})
        count = min(self.parallel, len(ids) // self.min_issues_per_chain)
        if count < 2:
            return [new_chain()], len(ids)
        size = -(-len(ids) // count)
        chains = []
        for n in range(count):
            low = None if n == 0 else ids[n * size]
            high = None if n == count - 1 else ids[(n + 1) * size] - 1
            chains.append(new_chain(low, high))
        return chains, len(ids)

    def _approximate_count(self, jql: str) -> int | None:
        try:
            return self.client.approximate_count(jql)
        except Exception:  # a progress total is a nicety; never fail a sync for it
            log.debug("approximate count failed", exc_info=True)
            return None

    def _begin_completion(self, page: list[dict],
                          follow_ups: ThreadPoolExecutor) -> PageCompletion:
        """Start the requests that complete ``page``'s truncated worklogs and changelogs.

        On Cloud, truncated changelogs are only noted (their ids), to be
        bulkfetched later in batches of up to 1000 issues across pages: one
        request instead of one per page that has such an issue. Data Center's are
        fetched one GET per issue (the only way it has), as are truncated worklog
        lists, on the ``follow_ups`` pool; ``PageCompletion.result`` waits for them.
        """
        done = Completion()
        if self.changelog_in_search:
            done.changelogs_missing = sum(
                1 for raw in page if not isinstance(raw.get("changelog"), dict))
        short_changelogs = [int(raw["id"]) for raw in page if changelog_truncated(raw)]
        short_worklogs = [int(raw["id"]) for raw in page if worklogs_truncated(raw)]
        if short_changelogs and self.client.is_cloud:
            done.deferred, short_changelogs = short_changelogs, []
        return PageCompletion(
            page, done,
            {i: follow_ups.submit(fetch_one, self.client.changelog, i) for i in short_changelogs},
            {i: follow_ups.submit(fetch_one, self.client.worklogs, i) for i in short_worklogs},
        )

    def _flush_changelogs(self, result: SyncResult, checkpoint: dict[str, Any]) -> None:
        """Bulkfetch the deferred changelogs and replace the partial ones saved with their pages.

        An issue saved with search's histories but absent from the answer vanished
        in between (bulkfetch leaves out what it cannot see; an issue never loses
        histories): its row is removed rather than left with a truncated
        changelog that looks complete.
        """
        if not self._pending:
            return
        ids = list(dict.fromkeys(self._pending))
        found = {int(k): v for k, v in self.client.bulk_changelogs(ids).items()}
        absent = [i for i in ids if not found.get(i)]
        vanished = sorted(stored_changelog_ids(self.conn, absent)) if absent else []
        changes = {issue_id: map_changelog(issue_id, found.get(issue_id) or [])
                   for issue_id in ids if issue_id not in vanished}
        self._pending = []
        checkpoint["pending_changelogs"] = self._pending
        with transaction(self.conn):
            replaced = replace_changes(self.conn, changes)
            removed = delete_issues(self.conn, vanished)
            result.changes += sum(len(c) for c in changes.values()) - replaced
            result.changelogs_completed += len(changes)
            result.issues -= removed
            result.skipped += len(vanished)
            self._save_checkpoint(checkpoint, result)

    # -- versions

    def _project_keys(self) -> list[str]:
        keys = set(self.settings.scope.projects)
        if not keys:  # a JQL-only scope: the projects its issues live in
            keys = {row[0] for row in self.conn.execute("SELECT DISTINCT project_key FROM issues")}
        return sorted(keys)

    def _sync_versions(self, result: SyncResult) -> None:
        keys = self._project_keys()
        if not keys:
            return
        with ThreadPoolExecutor(min(self.parallel, len(keys))) as pool:
            answers = list(pool.map(self.client.project_versions, keys))
        versions = [map_version(raw, key) for key, raws in zip(keys, answers, strict=True)
                    for raw in raws]
        save_versions(self.conn, versions)
        result.versions = len(versions)

    # -- reconcile

    def _rejected(self, exc: JiraJqlRejected) -> ConfigError:
        """The one-line error of a scope query Jira refused: the config is at fault."""
        return ConfigError(
            f"Jira rejected the sync query: {exc.message}",
            hint="check [scope] projects and jql in "
            f"{self.settings.source or DEFAULT_CONFIG_NAME}",
        )

    def _accepted_by_jira(self, jql: str) -> None:
        """Ask for the first page of ids of ``jql``; ConfigError when Jira rejects the query."""
        try:
            next(iter(self.client.search_ids(jql)), None)
        except JiraJqlRejected as exc:
            raise self._rejected(exc) from exc

    def _reconciled(self, started: datetime) -> None:
        """A reconcile completed: the store holds only this scope's issues."""
        with transaction(self.conn):
            set_sync_state(self.conn, self.scope, last_reconcile=started)
            delete_meta(self.conn, SCOPE_MOVED)

    def _reconcile_due(self, state: Any, asked: bool | None, mode: str) -> bool:
        if get_meta(self.conn, SCOPE_MOVED):
            return True  # a move to this scope was killed before it removed the old issues
        if asked is not None:
            return asked
        hours = float(self.settings.sync.reconcile_every_hours)
        if hours <= 0:
            return False
        if state.last_reconcile is None:
            # Never reconciled (a first full sync that was interrupted, or an older
            # store): due now, so such a store does not go unreconciled for good.
            return True
        return self._jira_now() - state.last_reconcile >= timedelta(hours=hours)

    def _jira_now(self) -> datetime:
        return self.now() + timedelta(seconds=float(get_meta(self.conn, "clock_skew", 0.0)))

    def reconcile(self, result: SyncResult, base: str) -> None:
        """Remove stored issues Jira no longer returns for the scope (after a GET confirms)."""
        present: set[int] = set()
        for ids in self.client.search_ids(base):
            present.update(int(i) for i in ids)
        self._remove_missing(result, issue_ids(self.conn) - present)

    def _remove_missing(self, result: SyncResult, candidates: set[int]) -> None:
        """Delete the stored issues among ``candidates`` that left the scope, per GET /issue.

        404 means deleted (or no longer visible); so does 403, the answer of a Jira
        that hides an issue behind a security level this user is not in (the same
        answers make a sync skip an issue as vanished). An issue still there is out of
        scope when it now lives in a project outside ``[scope] projects``, or when
        a JQL filter is configured (the search is authoritative for it). One in
        a configured project with no filter is kept: Cloud search is eventually
        consistent, and the next incremental sync would bring it back anyway.
        """
        projects = set(self.settings.scope.projects)
        filtered = bool(self.settings.scope.jql)

        def gone(issue_id: int) -> bool:
            try:
                raw = self.client.issue(issue_id, fields=["project"])
            except VANISHED:
                return True
            project = ((raw.get("fields") or {}).get("project") or {}).get("key")
            return filtered or (bool(projects) and project not in projects)

        missing = sorted(candidates)
        if missing:
            with ThreadPoolExecutor(self.parallel) as pool:
                verdicts = list(pool.map(gone, missing))
            result.deleted += delete_issues(
                self.conn, [i for i, g in zip(missing, verdicts, strict=True) if g]
            )
        result.reconciled = True


def known_deployment(conn: sqlite3.Connection, configured: str | None) -> str | None:
    """"cloud"/"server" for a JiraClient: as configured, else as the last full sync saw it.

    Handing it to the client saves the serverInfo request it would otherwise send
    on every run; None when the store has not met this site yet.
    """
    if configured and configured != "auto":
        return configured
    cached = get_meta(conn, "deployment")
    if not cached:
        return None
    return "cloud" if str(cached).lower() == "cloud" else "server"


def sync(
    settings: Settings,
    conn: sqlite3.Connection,
    client: JiraClient,
    *,
    full: bool = False,
    reconcile: bool | None = None,
    progress: Progress | None = None,
    now: Callable[[], datetime] | None = None,
    new_scope: bool = False,
) -> SyncResult:
    """Sync the configured scope into the store; see the module docstring.

    ``new_scope`` moves a store that holds another scope's issues to this one
    (see ``sync.identity``); without it such a store is refused.

    Holds the store's sync lock (``store.locks``): a second sync on the same
    store raises LockBusy at once instead of interleaving its checkpoints with
    the first (or, of another scope, claiming the store beside it).
    """
    kwargs = {"now": now} if now is not None else {}
    resume_sending(client)
    with sync_lock(settings.store):
        return Syncer(settings, conn, client, progress=progress, **kwargs).run(
            full=full, reconcile=reconcile, new_scope=new_scope
        )
