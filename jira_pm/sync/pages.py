"""Pages of a search: several chains fanned in from threads, and what search truncated."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from jira_pm.jira.search import PendingPage


def changelog_truncated(raw: dict) -> bool:
    """Search gave fewer histories than ``changelog.total`` (or no changelog at all)."""
    changelog = raw.get("changelog")
    if not isinstance(changelog, dict):
        return True  # asked for and not given: fetch it
    histories = changelog.get("histories") or []
    total = changelog.get("total")
    return total is not None and int(total) > len(histories)


def worklogs_truncated(raw: dict) -> bool:
    """The ``worklog`` field holds fewer worklogs than its ``total`` (Jira caps it at 20)."""
    worklog = (raw.get("fields") or {}).get("worklog")
    if not isinstance(worklog, dict):
        return False
    total = worklog.get("total")
    return total is not None and int(total) > len(worklog.get("worklogs") or [])


_END = object()


def merged(
    streams: list[tuple[int, Iterable[Any]]], depth: int = 2,
    idle: Callable[[], bool] | None = None,
) -> Iterator[tuple[int, Any]]:
    """Run each page iterator in its own thread; yield (index, page), then (index, None) at its end.

    With one stream this just fetches one page ahead, so the next request
    overlaps the save. A stream may yield ``PendingPage``s (a deferred search):
    its thread then waits for the caller to decode each before asking for the
    next, which starts where that one ends. Errors are re-raised in the caller's
    thread; on exit the threads are told to stop and drained.

    ``idle`` is called whenever no page is waiting: True means it did some work
    (look again at once), False that it has none ready (wait for a page, and ask
    again every ``IDLE_POLL`` seconds meanwhile).
    """
    if not streams:
        return
    buffer: queue.Queue[Any] = queue.Queue(maxsize=depth * len(streams))
    stop = threading.Event()

    def produce(index: int, pages: Iterable[Any]) -> None:
        try:
            for page in pages:
                if stop.is_set():
                    return
                buffer.put((index, page))
                # A deferred page is decoded by the consumer, not here: ask for the
                # next one (which reads this one) only once the consumer has.
                if isinstance(page, PendingPage) and not page.wait(stop):
                    return
            buffer.put((index, _END))
        except BaseException as exc:  # handed to the consumer
            buffer.put((index, exc))

    workers = [
        threading.Thread(target=produce, args=stream, name=f"jira-pm-search-{stream[0]}",
                         daemon=True)
        for stream in streams
    ]
    for worker in workers:
        worker.start()
    running = len(workers)
    try:
        while running:
            index, item = _next(buffer, idle)
            if item is _END:
                running -= 1
                yield index, None
            elif isinstance(item, BaseException):
                raise item
            else:
                yield index, item
    finally:
        stop.set()
        # Unblock producers waiting on a full buffer so their threads can end.
        while any(worker.is_alive() for worker in workers):
            try:
                buffer.get(timeout=0.05)
            except queue.Empty:
                pass


IDLE_POLL = 0.01  # seconds between ``idle`` calls while merged waits for a page


def _next(buffer: queue.Queue[Any], idle: Callable[[], bool] | None) -> Any:
    """The next item of ``buffer``, calling ``idle`` while none is there (see ``merged``)."""
    if idle is None:
        return buffer.get()
    while True:
        try:
            return buffer.get_nowait()
        except queue.Empty:
            pass
        if idle():
            continue
        try:
            return buffer.get(timeout=IDLE_POLL)
        except queue.Empty:
            pass
