"""Concurrent write-back: issues in parallel, each issue's writes in order, one ledger thread.

Writes to different issues go out on up to ``[jira] max_parallel`` worker
threads. Writes to one issue are never in flight together and go in plan order
(labels, then each comment, then its comment property). The next write to
start is always the most severe one ready, so a run cut short has done the
most severe writes first, as a one-at-a-time run would.

SQLite connections belong to the thread that made them: every ledger call a
worker makes is handed to the main thread (``LedgerDesk``) and the worker
waits for it to be committed. So a ``pending`` row is still committed before
its request is sent, and a kill at any moment leaves the ledger as a
one-at-a-time run would (see ``apply``).

A 429 seen by any worker pauses every worker (``SharedPause``): the HTTP layer
already waits before retrying the request that met it; the others hold back
for as long before their next request instead of hammering a throttled Jira.
"""

from __future__ import annotations

import heapq
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from jira_pm.writeback.failures import SEND, SKIP, ProjectGate

RATE_LIMITED = 429


class Progress(Protocol):
    """What write-back reports to a progress bar (the CLI's; tests may pass their own)."""

    def start(self, total: int | None) -> None: ...
    def advance(self, count: int) -> None: ...
    def finish(self) -> None: ...


class Stopped(Exception):
    """A worker's ledger call after the run stopped: its write is left as a kill leaves it."""


@dataclass
class _LedgerCall:
    call: Callable[[], Any]
    answer: Future


@dataclass
class _Finished:
    index: int
    answer: str | None
    error: BaseException | None


class LedgerDesk:
    """Runs ledger calls on the thread that made it; other threads wait for theirs to be done."""

    def __init__(self) -> None:
        self._owner = threading.get_ident()
        self.events: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._closed = False

    def call(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``function(*args, **kwargs)`` on the owner thread, committed when this returns."""
        if threading.get_ident() == self._owner:
            return function(*args, **kwargs)
        request = _LedgerCall(lambda: function(*args, **kwargs), Future())
        with self._lock:
            if self._closed:
                raise Stopped("the run stopped before this write could be recorded")
            self.events.put(request)
        return request.answer.result()

    def serve(self, request: _LedgerCall) -> None:
        try:
            request.answer.set_result(request.call())
        except BaseException as exc:  # handed to the worker, which stops its issue
            request.answer.set_exception(exc)

    def close(self) -> None:
        """Refuse every later call and fail the waiting ones (the owner stops serving).

        Only ledger calls are taken off the queue: a worker's ``_Finished`` event stays
        for the owner, which still counts the writes in flight down to zero (dropping
        one left it waiting for ever).
        """
        with self._lock:
            self._closed = True
        kept = []
        while True:
            try:
                event = self.events.get_nowait()
            except queue.Empty:
                break
            if isinstance(event, _LedgerCall):
                event.answer.set_exception(Stopped("the run stopped"))
            else:  # a worker's end: perform_all still counts it, or it waits for it forever
                kept.append(event)
        for event in kept:
            self.events.put(event)


class SharedPause:
    """Holds every worker back while Jira is rate limiting: a 429 anywhere pauses them all.

    Fed by the HTTP layer's retry-wait observers; each worker calls ``wait``
    before a write request. Kept here, out of the HTTP layer, so the HTTP
    layer's own per-request waits stay as they are.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] | None = None):
        self._clock = clock
        # The real sleep is a wait on this event, so stop() wakes the paused workers.
        self._stopped = threading.Event()
        self._sleep = sleep if sleep is not None else self._stopped.wait
        self._lock = threading.Lock()
        self._until = 0.0

    def stop(self) -> None:
        """The run stopped: paused workers return at once (their writes are refused later)."""
        self._stopped.set()

    def observe(self, wait: Any) -> None:
        """A retry wait reported by the HTTP layer; a 429's wait pauses everyone as long.

        Only a limit on everything does: a refusal scoped to one issue or one endpoint
        (Cloud's ``RateLimit-Reason``) is held back by the HTTP layer's gate for that
        scope alone, so the other issues' writes go on.
        """
        if getattr(wait, "status", None) != RATE_LIMITED:
            return
        if getattr(wait, "scope", "") not in ("", "everything"):
            return
        with self._lock:
            self._until = max(self._until, self._clock() + float(wait.seconds))

    def wait(self) -> None:
        """Return once no 429 pause is running (at once when none is)."""
        while not self._stopped.is_set():
            with self._lock:
                remaining = self._until - self._clock()
            if remaining <= 0:
                return
            self._sleep(remaining)


def perform_all(
    issue_ids: Sequence[int],
    gate: ProjectGate,
    step: Callable[[int], str],
    *,
    parallel: int,
    desk: LedgerDesk,
    on_finished: Callable[[int], None] = lambda count: None,
) -> None:
    """Run ``step(index)`` for every write (``issue_ids[index]`` is its issue), as the gate allows.

    ``step`` returns the write's answer for the gate. The first error a step
    raises stops new writes; the writes in flight finish (and are recorded, unless
    the error is a BaseException standing for a kill), then it is raised. With
    ``parallel`` 1 everything runs on this thread, in plan order.
    """
    per_issue: dict[int, deque[int]] = {}
    for index, issue_id in enumerate(issue_ids):
        per_issue.setdefault(issue_id, deque()).append(index)
    ready = [writes[0] for writes in per_issue.values()]
    heapq.heapify(ready)
    waiting: list[int] = []
    in_flight = 0
    error: BaseException | None = None
    pool = ThreadPoolExecutor(parallel, thread_name_prefix="jira-pm-write") if parallel > 1 \
        else None

    def run(index: int) -> None:
        try:
            desk.events.put(_Finished(index, step(index), None))
        except BaseException as exc:  # a crash or a Jira that is down: the main thread raises it
            desk.events.put(_Finished(index, None, exc))

    def next_of(issue_id: int) -> None:
        writes = per_issue[issue_id]
        writes.popleft()
        if writes:
            heapq.heappush(ready, writes[0])

    try:
        while True:
            while error is None and in_flight < parallel and ready:
                index = heapq.heappop(ready)
                decision = gate.decide(index)
                if decision == SKIP:
                    on_finished(1)
                    next_of(issue_ids[index])
                elif decision == SEND:
                    in_flight += 1
                    if pool is None:
                        run(index)
                    else:
                        pool.submit(run, index)
                else:
                    waiting.append(index)
            if in_flight == 0:
                break
            event = desk.events.get()
            if isinstance(event, _LedgerCall):
                desk.serve(event)
                continue
            in_flight -= 1
            on_finished(1)
            if event.error is not None:
                error = error or event.error
                if not isinstance(event.error, Exception):
                    # A kill (or Ctrl-C): the writes in flight end as a kill leaves them,
                    # sent perhaps but still pending in the ledger for the next run to check.
                    desk.close()
                continue
            gate.answered(event.index, event.answer)
            next_of(issue_ids[event.index])
            for index in waiting:  # an answer may settle what they waited for
                heapq.heappush(ready, index)
            waiting.clear()
    finally:
        desk.close()
        if pool is not None:
            pool.shutdown(wait=in_flight == 0, cancel_futures=True)  # interrupted: don't hang
    if error is not None:
        raise error
