"""Request counters by route, method and status (GET /__sandbox/stats)."""

from __future__ import annotations

import threading
from collections import Counter


class Stats:
    """Request counters by method and by route."""

    def __init__(self):
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.total = 0
            self.by_route: Counter = Counter()
            self.by_method: Counter = Counter()
            self.by_status: Counter = Counter()

    def count(self, method: str, route: str) -> None:
        with self._lock:
            self.total += 1
            self.by_route[f"{method} {route}"] += 1
            self.by_method[method] += 1

    def count_status(self, status: int) -> None:
        with self._lock:
            self.by_status[str(status)] += 1

    def snapshot(self) -> dict:
        with self._lock:
            return {"total": self.total, "by_route": dict(self.by_route),
                    "by_method": dict(self.by_method), "by_status": dict(self.by_status)}
