"""Run compiled JQL over the site: lazily for keyset pages, fully when a total is needed.

A query ordered by ``id`` ascending (the keyset paging jira-pm uses) is scanned
from its ``id > N`` floor only as far as the page needs, and the scan resumes
where it stopped for the next page of the same query; any other order is
evaluated and sorted once. Cursors are cached per site revision, so a write
never serves stale results.
"""

from __future__ import annotations

import bisect

from jira_pm.sandbox.jql import Query, default_order, sort_issues

CACHE_SIZE = 64


class SearchCursor:
    """The (possibly partial) result of one query at one site revision."""

    def __init__(self, query: Query, state):
        self.state = state
        self.query = query
        self.ids: list[int] = []
        order = query.order or default_order()
        self.streaming = order == [("id", False)]
        all_ids = state.ids
        self.pos = 0
        if query.id_floor:
            op, floor = query.id_floor
            self.pos = (bisect.bisect_right(all_ids, floor) if op == ">"
                        else bisect.bisect_left(all_ids, floor))
        self.floor_pos = self.pos
        if not self.streaming:
            issues = state.issues
            predicate = query.predicate
            matched = [issues[i] for i in all_ids[self.pos:] if predicate(issues[i])]
            self.ids = [i.id for i in sort_issues(matched, order)]
            self.pos = len(all_ids)

    def window(self, start: int, size: int) -> tuple[list[int], int]:
        """Results [start, start + size) and how many there are in all (Server's total)."""
        if self.streaming and self.query.floor_only:
            # `id > N ORDER BY id`: every id past the floor matches, so the page and the
            # total come straight from the sorted ids (no list of up to 100,000 built).
            ids, first = self.state.ids, self.floor_pos + start
            return ids[first:first + size], len(ids) - self.floor_pos
        ids, _ = self.take(None)
        return ids[start:start + size], len(ids)

    def take(self, need: int | None) -> tuple[list[int], bool]:
        """At least ``need`` results when there are that many (None: all); and whether done."""
        all_ids, issues = self.state.ids, self.state.issues
        end = len(all_ids)
        if self.query.floor_only:
            # `id > N` alone: every id past the floor matches; no predicate to evaluate.
            stop = end if need is None else min(end, self.pos + need - len(self.ids))
            self.ids.extend(all_ids[self.pos:stop])
            self.pos = max(self.pos, stop)
        else:
            predicate, ids, pos = self.query.predicate, self.ids, self.pos
            while pos < end and (need is None or len(ids) < need):
                issue_id = all_ids[pos]
                if predicate(issues[issue_id]):
                    ids.append(issue_id)
                pos += 1
            self.pos = pos
        return self.ids, self.pos >= end


class SearchCache:
    """Cursors by (JQL, time zone, site revision)."""

    def __init__(self):
        self._cursors: dict[tuple, SearchCursor] = {}

    def clear(self) -> None:
        self._cursors.clear()

    def cursor(self, key: tuple, build) -> SearchCursor:
        found = self._cursors.get(key)
        if found is None:
            if len(self._cursors) >= CACHE_SIZE:
                self._cursors.clear()
            found = self._cursors[key] = SearchCursor(*build())
        return found
