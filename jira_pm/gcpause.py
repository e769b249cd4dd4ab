"""Pause Python's cyclic garbage collector around bulk work that makes no reference cycles.

Reference counting frees JSON trees, mapped issues and rows the moment the last
reference goes; the cyclic collector only adds rescans. It runs whenever
allocations outnumber frees by 700, and every few such runs it walks every
container object alive, so work that keeps many objects alive for a while (a
site loaded for the checks; search pages buffered for saving) pays again and
again for objects that are not garbage: measured on a 100k-issue sync, a third of
the decoding time. Nested and concurrent pauses share one switch: the collector
comes back (if it was on) when the last pause ends. Cyclic garbage made
meanwhile (a few thousand objects in a 100k-issue sync: exceptions of retried
requests and the like) is collected after that.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_pauses = 0
_was_enabled = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic collector off for the block (see the module docstring)."""
    global _pauses, _was_enabled
    with _lock:
        if _pauses == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _lock:
            _pauses -= 1
            if _pauses == 0 and _was_enabled:
                gc.enable()
