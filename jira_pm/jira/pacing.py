"""Pacing: Jira Cloud's rate limits, each waited out in its own scope, shared by all threads.

Jira Cloud applies three limits at once and names the one that refused a request
in ``RateLimit-Reason``:

- ``jira-burst-based``: one endpoint and method (``PUT /rest/api/2/issue/{id}``);
- ``jira-per-issue-on-write``: the writes to one issue;
- the quota budgets (``jira-quota-tenant-based``, ``jira-quota-global-based``, the
  older ``jira-cost-based`` / ``jira-quota-based``) and any reason not known here:
  everything.

The ``Gate`` keeps, per scope, the earliest moment its next request may go. Every
request asks the gate for its turn in each scope it belongs to (everything, its
endpoint, and for a write the issue it changes) before it is sent, so a per-issue
refusal holds back only that issue's writes while the rest of the run goes on.

Before a refusal: an answer with ``X-RateLimit-NearLimit: true`` paces the scope its
``RateLimit-Reason`` names (everything when it names none). The burst and per-issue
limits are per-second budgets of ``X-RateLimit-Limit`` requests, so requests in that
scope are then spaced ``1 / X-RateLimit-Limit`` s apart; the quota's window is not
stated, so everything is spaced ``QUOTA_PACE`` apart. An answer without the header
ends the pacing of the scopes that request belongs to.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

BURST = "jira-burst-based"
PER_ISSUE = "jira-per-issue-on-write"

QUOTA_PACE = 0.1  # seconds between any two requests while a quota budget is nearly spent
MAX_PACE = 2.0  # no budget header makes the client slower than this between two requests
WRITES = ("PUT", "POST", "DELETE")

# A path segment that names one thing: a number, an issue key, or what follows these words.
_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]*-\d+$")
_NAMED_AFTER = {"project": {"search"}, "properties": set(), "user": set()}


@dataclass(frozen=True)
class Scope:
    """What a limit covers: ``kind`` is everything, endpoint or issue."""

    kind: str
    key: str = ""

    def words(self) -> str:
        """How a person reads it; never an issue id (the terminal line shows this)."""
        if self.kind == "endpoint":
            return self.key
        if self.kind == "issue":
            return "one issue's writes"
        return "every request"

    def __str__(self) -> str:
        return self.key and f"{self.kind} {self.key}" or self.kind


EVERYTHING = Scope("everything")


def endpoint_template(method: str, url: str) -> str:
    """'PUT /rest/api/2/issue/{id}' for 'PUT https://…/rest/api/2/issue/10042?x=1'."""
    parts = urlsplit(url).path.split("/")
    out: list[str] = []
    for index, part in enumerate(parts):
        before = parts[index - 1] if index else ""
        if (part.isdigit() and before != "api") or _KEY.match(part):
            out.append("{id}")
        elif before in _NAMED_AFTER and part and part not in _NAMED_AFTER[before]:
            out.append("{key}")
        else:
            out.append(part)
    return f"{method} {'/'.join(out)}"


def issue_of(url: str) -> str | None:
    """The issue id or key in a ``…/issue/{idOrKey}…`` path, else None."""
    parts = urlsplit(url).path.split("/")
    for index, part in enumerate(parts[:-1]):
        if part == "issue" and parts[index + 1] not in ("", "bulk", "picker", "createmeta"):
            return parts[index + 1]
    return None


def scope_of_reason(reason: str | None, method: str, url: str,
                    issue: str | None) -> Scope:
    """The scope a ``RateLimit-Reason`` covers for this request."""
    reason = (reason or "").strip().lower()
    if reason == BURST:
        return Scope("endpoint", endpoint_template(method, url))
    if reason == PER_ISSUE and issue is not None:
        return Scope("issue", issue)
    return EVERYTHING


def _named(reason: str, scope: Scope, noun: str) -> str:
    """The limit or budget a reason names, in words ('' for no reason)."""
    if reason.lower() == BURST:
        return f"Jira's burst {noun} for {scope.words()} ({reason})"
    if reason.lower() == PER_ISSUE:
        return f"Jira's write {noun} for one issue ({reason})"
    return f"Jira's {reason} {noun}" if reason else ""


def reason_words(reason: str | None, scope: Scope) -> str:
    """'Jira's burst limit for GET /rest/api/3/search/jql (jira-burst-based)'."""
    reason = (reason or "").strip()
    named = _named(reason, scope, "limit")
    if reason.lower() == BURST:
        return named
    if reason.lower() == PER_ISSUE:
        return f"{named}; other issues go on"
    return (named or "Jira's rate limit") + ", for every request"


def budget_words(reason: str | None, scope: Scope) -> str:
    """'Jira's write budget for one issue (jira-per-issue-on-write)', for near-limit notices."""
    return _named((reason or "").strip(), scope, "budget") or "one of Jira's rate-limit budgets"


def parse_reset(value: str | None, now: float) -> float | None:
    """Seconds until an ``X-RateLimit-Reset`` instant (``2026-03-26T16:00Z``, any ISO 8601
    with a zone, or epoch seconds); None when unusable or already past."""
    if not value or not value.strip():
        return None
    text = value.strip()
    try:
        number = float(text)
    except ValueError:
        try:
            when = datetime.fromisoformat(text.replace("z", "Z"))
        except ValueError:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        number = when.timestamp()
    if number < 1e9:  # not an instant
        return None
    seconds = number - now
    return seconds if seconds > 0 else None


class Gate:
    """Per-scope turns, shared by every thread of one session."""

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()
        self._held: dict[Scope, float] = {}  # until when a refusal holds the scope
        self._not_before: dict[Scope, float] = {}  # the next paced slot
        self._pace: dict[Scope, float] = {}
        self.waited = 0.0  # seconds spent waiting at the gate, all threads together

    def scopes(self, method: str, url: str, issue: str | None) -> list[Scope]:
        """The scopes one request belongs to: everything, its endpoint, the issue it writes."""
        scopes = [EVERYTHING, Scope("endpoint", endpoint_template(method, url))]
        if method in WRITES and issue is not None:
            scopes.append(Scope("issue", issue))
        return scopes

    def wait_turn(self, scopes: list[Scope]) -> float:
        """Sleep until every scope lets the request go, taking its paced slot; the seconds."""
        with self._lock:
            now = self._clock()
            start = max([now] + [self._not_before.get(s, now) for s in scopes]
                        + [self._held.get(s, now) for s in scopes])
            for scope in scopes:
                pace = self._pace.get(scope, 0.0)
                if pace:
                    self._not_before[scope] = start + pace
            wait = start - now
            self.waited += wait
        if wait > 0:
            self._sleep(wait)
        return wait

    def refused(self, scope: Scope, seconds: float, limit: float | None) -> None:
        """A 429 for ``scope``: hold it ``seconds`` and pace it afterwards."""
        with self._lock:
            now = self._clock()
            self._held[scope] = max(self._held.get(scope, now), now + seconds)
            self._forget_idle(now)
            self._pace[scope] = max(self._pace.get(scope, 0.0), self._pace_for(scope, limit))

    def near_limit(self, scope: Scope, limit: float | None) -> float | None:
        """NearLimit for ``scope``: pace it; the new pace when it was not paced before."""
        pace = self._pace_for(scope, limit)
        with self._lock:
            now = self._clock()
            before = self._pace.get(scope, 0.0)
            self._pace[scope] = max(before, pace)
            self._not_before[scope] = max(self._not_before.get(scope, now), now + pace)
            self._forget_idle(now)
            return pace if not before else None

    def clear(self, scopes: list[Scope]) -> None:
        """An answer with no budget near its end: stop pacing these scopes."""
        with self._lock:
            for scope in scopes:
                if self._pace.pop(scope, None):
                    self._not_before.pop(scope, None)

    def paced(self, scope: Scope) -> float:
        return self._pace.get(scope, 0.0)

    @staticmethod
    def _pace_for(scope: Scope, limit: float | None) -> float:
        if scope.kind == "everything":
            return QUOTA_PACE
        if limit and limit > 0:
            return min(MAX_PACE, 1.0 / limit)
        return QUOTA_PACE

    def _forget_idle(self, now: float) -> None:
        """Drop issues whose turn has passed and that are not paced (a long run's many)."""
        for times in (self._held, self._not_before):
            if len(times) >= 4096:
                for scope in [s for s, t in times.items() if t < now and not self._pace.get(s)]:
                    del times[scope]
