"""Jira Cloud's three rate limits, each with its own scope, and the headers they send.

- burst (``jira-burst-based``): per endpoint and HTTP method (the path template, such
  as ``PUT /rest/api/3/issue/{idOrKey}``), a token bucket of N requests refilled at N a
  second; a refusal carries ``Retry-After``.
- per-issue write (``jira-per-issue-on-write``): per issue, the same kind of bucket for
  the requests that change it (label edits, comments, comment properties, worklogs);
  a refusal carries ``Retry-After``.
- quota (``jira-quota-tenant-based``): one budget for the whole site per clock minute
  or hour; a refusal carries only ``X-RateLimit-Reset`` (``yyyy-MM-ddTHH:mmZ``, the end
  of the window), as Atlassian's quota refusals do.

Every answer carries ``X-RateLimit-Limit`` / ``X-RateLimit-Remaining`` of the tightest
budget the request touched, and ``X-RateLimit-NearLimit: true`` with that budget's
``RateLimit-Reason`` when less than ``near_limit_at`` of it remains. A refused request
spends nothing. Data Center has none of this (its admin-enabled limiter is the plain
``rate_limit`` fault in faults.py).
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from jira_pm.sandbox.timeutil import http_date

BURST = "jira-burst-based"
PER_ISSUE = "jira-per-issue-on-write"
QUOTA = "jira-quota-tenant-based"

WINDOWS = {"s": 1, "min": 60, "h": 3600}


def parse_limit(value: str, *, windows: tuple[str, ...] = ("s",)) -> tuple[float, int]:
    """'10/s' -> (10.0, 1); '1500/min' -> (1500.0, 60). ValueError when it is not one."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(?:/\s*(s|min|h))?\s*", value or "")
    if not match or float(match.group(1)) <= 0 or (match.group(2) or "s") not in windows:
        raise ValueError(f"{value!r} is not a limit: give a count per "
                         + " or ".join(windows) + f", e.g. 10/{windows[0]}")
    return float(match.group(1)), WINDOWS[match.group(2) or "s"]


class _Bucket:
    """N tokens, refilled at N a second."""

    def __init__(self, capacity: float, now: float):
        self.capacity, self.tokens, self.stamp = capacity, capacity, now

    def refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.capacity)
        self.stamp = now

    def wait(self) -> float:
        """Seconds until one token is back (0 when one is here)."""
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.capacity


@dataclass
class Verdict:
    """What the limits say of one request: ``refused`` (a 429) and the headers to send."""

    refused: bool
    headers: dict


class CloudLimits:
    """The three limits of one Cloud site, thread-safe; every setting None means off."""

    def __init__(self, burst: float | None = None, issue_write: float | None = None,
                 quota: tuple[float, int] | None = None, near_limit_at: float = 0.2,
                 clock: Callable[[], float] = time.time, retry_after: str = "seconds"):
        if not 0.0 <= near_limit_at < 1.0:
            raise ValueError(f"near_limit_at must be from 0 up to 1, not {near_limit_at!r}")
        self.burst, self.issue_write, self.quota = burst, issue_write, quota
        self.near_limit_at, self.clock, self.retry_after = near_limit_at, clock, retry_after
        self._lock = threading.Lock()
        self._buckets: dict[tuple, _Bucket] = {}
        self._quota_window = -1
        self._quota_used = 0

    @property
    def enabled(self) -> bool:
        return bool(self.burst or self.issue_write or self.quota)

    def check(self, method: str, route: str, issue_id: int | None) -> Verdict:
        """Spend one request of each budget ``METHOD route`` touches, or refuse it.

        ``issue_id`` is the issue a write changes (None for reads and site-wide calls).
        """
        with self._lock:
            now = self.clock()
            budgets = []  # (reason, limit, remaining before, wait when empty, bucket or None)
            if self.quota:
                limit, window = self.quota
                current = math.floor(now / window)
                if current != self._quota_window:
                    self._quota_window, self._quota_used = current, 0
                budgets.append((QUOTA, limit, limit - self._quota_used, None, None))
            for reason, rate, key in ((BURST, self.burst, ("burst", method, route)),
                                      (PER_ISSUE, self.issue_write, ("issue", issue_id))):
                if not rate or (reason == PER_ISSUE and issue_id is None):
                    continue
                bucket = self._buckets.get(key)
                if bucket is None:
                    bucket = self._buckets[key] = _Bucket(rate, now)
                bucket.refill(now)
                budgets.append((reason, rate, bucket.tokens, bucket.wait(), bucket))
            for reason, limit, remaining, wait, _ in budgets:
                if remaining < 1:
                    return Verdict(True, self._refusal(reason, limit, wait, now))
            tightest = None
            for reason, limit, remaining, _, bucket in budgets:
                if bucket is not None:
                    bucket.tokens -= 1
                else:
                    self._quota_used += 1
                left = remaining - 1
                if tightest is None or left / limit < tightest[2] / tightest[1]:
                    tightest = (reason, limit, left)
            return Verdict(False, self._status(tightest))

    def _status(self, tightest) -> dict:
        if tightest is None:
            return {}
        reason, limit, left = tightest
        headers = {"X-RateLimit-Limit": str(int(limit)),
                   "X-RateLimit-Remaining": str(max(0, int(left)))}
        if left / limit < self.near_limit_at:
            headers["X-RateLimit-NearLimit"] = "true"
            headers["RateLimit-Reason"] = reason
        return headers

    def _refusal(self, reason: str, limit: float, wait: float | None, now: float) -> dict:
        headers = {"RateLimit-Reason": reason, "X-RateLimit-Limit": str(int(limit)),
                   "X-RateLimit-Remaining": "0", "X-RateLimit-NearLimit": "true"}
        if wait is None:  # the quota: its window's end, to the minute, and no Retry-After
            window = self.quota[1]
            end = (math.floor(now / window) + 1) * window
            headers["X-RateLimit-Reset"] = time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime(end))
            return headers
        seconds = max(1, math.ceil(wait))
        if self.retry_after == "http-date":
            headers["Retry-After"] = http_date(int(now + seconds) * 1000)
        else:
            headers["Retry-After"] = str(seconds)
        return headers
