"""Fault injection, deterministic under a seed: latency, 429s, 5xx and dropped connections.

Each request draws from one seeded random stream in arrival order, so the
same seed and the same request sequence give the same faults.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable

from jira_pm.sandbox.timeutil import http_date

SERVER_ERRORS = (500, 502, 503, 504)


class Decision:
    """What to do with one request: ``kind`` is ok, drop, error or throttle."""

    __slots__ = ("kind", "status", "delay", "headers")

    def __init__(self, kind: str, status: int = 200, delay: float = 0.0,
                 headers: dict | None = None):
        self.kind, self.status, self.delay = kind, status, delay
        self.headers = headers or {}


class Faults:
    """The fault settings of a site and the seeded stream that applies them."""

    def __init__(self, seed: int = 1, latency_ms: float = 0, rate_limit: float | None = None,
                 error_rate: float = 0.0, drop_rate: float = 0.0, retry_after: str = "seconds",
                 clock: Callable[[], float] = time.time, search_lag_ms: int = 0):
        self._lock = threading.Lock()
        self._random = random.Random(f"faults-{seed}")
        self.clock = clock
        self.window_start = 0
        self.window_count = 0
        self.set(latency_ms=latency_ms, rate_limit=rate_limit, error_rate=error_rate,
                 drop_rate=drop_rate, retry_after=retry_after, search_lag_ms=search_lag_ms)

    def set(self, **settings) -> None:
        """Change any of latency_ms, rate_limit, error_rate, drop_rate, retry_after,
        search_lag_ms (Cloud search sees changes only this long after they happen)."""
        with self._lock:
            for name, value in settings.items():
                if name not in ("latency_ms", "rate_limit", "error_rate", "drop_rate",
                                "retry_after", "search_lag_ms"):
                    raise TypeError(f"unknown fault setting {name!r}")
                if name in ("error_rate", "drop_rate") and not 0.0 <= float(value) <= 1.0:
                    raise ValueError(f"{name} must be between 0 and 1, not {value!r}")
                if name == "retry_after" and value not in ("seconds", "http-date"):
                    raise ValueError("retry_after must be 'seconds' or 'http-date'")
                setattr(self, name, value)

    def decide(self) -> Decision:
        """The fate of the next request (rate limit first, then drop, then 5xx)."""
        with self._lock:
            delay = (self.latency_ms or 0) / 1000.0
            if self.rate_limit:
                now = self.clock()
                window = math.floor(now)
                if window != self.window_start:
                    self.window_start, self.window_count = window, 0
                self.window_count += 1
                if self.window_count > self.rate_limit:
                    wait = max(1, math.ceil(window + 1 - now))
                    if self.retry_after == "http-date":
                        header = http_date(int((now + wait) * 1000) // 1000 * 1000)
                    else:
                        header = str(wait)
                    # Jira Cloud's rate-limit headers; Reset is the window's end (ISO 8601).
                    reset = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(window + 1))
                    headers = {"Retry-After": header,
                               "X-RateLimit-Limit": str(int(self.rate_limit)),
                               "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}
                    return Decision("throttle", 429, delay, headers)
            draw_drop = self._random.random()
            draw_error = self._random.random()
            pick = self._random.randrange(len(SERVER_ERRORS))
            if draw_drop < (self.drop_rate or 0.0):
                return Decision("drop", 0, delay)
            if draw_error < (self.error_rate or 0.0):
                return Decision("error", SERVER_ERRORS[pick], delay)
            return Decision("ok", 200, delay)
