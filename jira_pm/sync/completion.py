"""Completing a search page: the follow-up requests for what search truncated.

Search gives at most 20 worklogs of an issue, and (Data Center) part of a long
changelog; the rest comes from one request per issue, sent on a pool while the
saving thread goes on with other pages. Cloud's truncated changelogs are only
noted here, for one bulkfetch per 1,000 issues (see ``syncer``).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Collection
from concurrent.futures import Future
from dataclasses import dataclass, field
from itertools import count
from typing import TYPE_CHECKING, Any

from jira_pm.errors import JiraNotFound, JiraPermissionError

if TYPE_CHECKING:
    from jira_pm.sync.syncer import SyncResult

log = logging.getLogger(__name__)

# A per-issue follow-up answered so: the issue vanished after the search (deleted, moved
# out of reach, hidden by a security level).
VANISHED = (JiraNotFound, JiraPermissionError)


@dataclass
class Completion:
    """What completing one page found: ids left to bulkfetch, ids vanished, counts."""

    deferred: list[int] = field(default_factory=list)
    vanished: set[int] = field(default_factory=set)
    changelogs_completed: int = 0
    worklogs_completed: int = 0
    changelogs_missing: int = 0

    def apply(self, result: SyncResult) -> None:
        """Add the counts to ``result`` (warn at the first missing changelog)."""
        if self.changelogs_missing and not result.changelogs_missing:
            log.warning("Jira answered a search without the changelog it was asked for "
                        "(expand=changelog): a proxy or plugin may drop it; fetching "
                        "changelogs separately")
        result.changelogs_missing += self.changelogs_missing
        result.changelogs_completed += self.changelogs_completed
        result.worklogs_completed += self.worklogs_completed


def fetch_one(fetch: Callable[[int], Any], issue_id: int) -> Any:
    """``fetch(issue_id)``; the exception instead when the issue vanished (404/403)."""
    try:
        return fetch(issue_id)
    except VANISHED as exc:
        log.info("issue %s vanished after the search (%s); skipped", issue_id, exc)
        return exc


class PageCompletion:
    """A page's follow-up requests in flight; ``result`` waits and puts the answers in it.

    An issue whose follow-up request meets 404/403 vanished after the search
    (deleted, moved, hidden): it is left out of the page, not half-saved.
    """

    def __init__(self, page: list[dict], done: Completion,
                 changelogs: dict[int, Future], worklogs: dict[int, Future]):
        self._page, self._done = page, done
        self._changelogs, self._worklogs = changelogs, worklogs
        self._result: Completion | None = None

    def done(self) -> bool:
        return all(f.done() for f in self._futures())

    def cancel(self) -> None:
        """Drop the requests not sent yet (the page will not be saved)."""
        for future in self._futures():
            future.cancel()

    def _futures(self) -> tuple[Future, ...]:
        return (*self._changelogs.values(), *self._worklogs.values())

    def result(self) -> Completion:
        """The completed page's counts and ids (the page's raw issues are completed in place).

        Raises what a follow-up request raised, other than an issue vanishing. Once
        it has returned, it returns the same Completion again.
        """
        if self._result is None:
            self._result = self._complete()
        return self._result

    def _complete(self) -> Completion:
        done = self._done
        by_id = {int(raw["id"]): raw for raw in self._page}
        histories = self._answers(self._changelogs)
        lists = self._answers(self._worklogs)
        for issue_id, items in histories.items():
            by_id[issue_id]["changelog"] = {
                "startAt": 0, "maxResults": len(items), "total": len(items),
                "histories": items,
            }
        done.changelogs_completed += len(histories)
        for issue_id, worklogs in lists.items():
            if issue_id in done.vanished:
                continue
            by_id[issue_id]["fields"]["worklog"] = {
                "startAt": 0, "maxResults": len(worklogs), "total": len(worklogs),
                "worklogs": worklogs,
            }
            done.worklogs_completed += 1
        done.deferred = [i for i in done.deferred if i not in done.vanished]
        return done

    def _answers(self, futures: dict[int, Future]) -> dict[int, Any]:
        found = {}
        for issue_id, future in futures.items():
            answer = future.result()
            if isinstance(answer, VANISHED):
                self._done.vanished.add(issue_id)
            else:
                found[issue_id] = answer
        return found


class Backlog:
    """Decoded pages waiting to be saved: in arrival order within a chain, any order across.

    A chain's checkpoint only moves forward, so its pages (and then its end) are
    saved in the order they came; a page of one chain whose follow-ups are still
    out does not hold up another chain's pages. ``next_ready`` and ``next_oldest``
    name the chain whose first page to save; ``saved`` takes that page out only
    once it is saved, so a page whose save was interrupted stays first.
    """

    def __init__(self, limit: int):
        self.limit = limit  # issues held (decoded) before the oldest page must be saved
        self._chains: dict[int, deque[tuple[int, list[dict] | None,
                                            PageCompletion | None]]] = {}
        self._arrival = count()
        self._issues = 0

    def add(self, index: int, page: list[dict] | None,
            completion: PageCompletion | None) -> None:
        """Queue ``page`` of chain ``index`` (``page`` None: the chain's end)."""
        self._chains.setdefault(index, deque()).append((next(self._arrival), page, completion))
        self._issues += len(page or ())

    def __len__(self) -> int:
        return sum(len(q) for q in self._chains.values())

    def full(self) -> bool:
        return self._issues > self.limit

    def first(self, index: int) -> tuple[list[dict] | None, PageCompletion | None]:
        """Chain ``index``'s first page (None: its end) and its completion."""
        _, page, completion = self._chains[index][0]
        return page, completion

    def next_ready(self, skip: Collection[int] = ()) -> int | None:
        """The chain (not in ``skip``) whose first page came earliest among those that can be
        saved now."""
        heads = [(q[0][0], index) for index, q in self._chains.items()
                 if q and index not in skip and (q[0][2] is None or q[0][2].done())]
        return min(heads)[1] if heads else None

    def next_oldest(self) -> int:
        """The chain whose first page came earliest (its follow-ups may still be out)."""
        return min((q[0][0], index) for index, q in self._chains.items() if q)[1]

    def saved(self, index: int) -> None:
        """Chain ``index``'s first page is saved: take it out."""
        _, page, _ = self._chains[index].popleft()
        self._issues -= len(page or ())

    def unsaved(self) -> list[PageCompletion]:
        """The completions of every page still waiting."""
        return [completion for q in self._chains.values() for _, _, completion in q
                if completion is not None]
