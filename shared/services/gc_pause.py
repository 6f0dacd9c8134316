"""Pausing the interpreter's cyclic garbage collector around allocation-heavy batch work.

A full audit reads tens of thousands of cache rules, ids and findings that live until its
report is built. CPython's cyclic collector is triggered by allocation counts and walks every
live container object each time it reaches the oldest generation, so it kept re-walking the
audit's own results: about 8 % of the audit's CPU in the benchmark fleet (figure 5 in
`docs/performance.md`). Reference counting still frees everything that is not in a cycle while
the collector is paused; it resumes, with its usual thresholds, when the last pause ends.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["cyclic_gc_paused"]


class _Pauses:
    """Overlapping pauses (two audits at once) resume the collector only when the last ends, and
    only if it was running when the first began."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active = 0
        self._resume = False

    def begin(self) -> None:
        with self._lock:
            if self._active == 0:
                self._resume = gc.isenabled()
                gc.disable()
            self._active += 1

    def end(self) -> None:
        with self._lock:
            self._active -= 1
            if self._active == 0 and self._resume:
                gc.enable()


_PAUSES = _Pauses()


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """No cyclic collection inside the block (process-wide, as the collector is)."""
    _PAUSES.begin()
    try:
        yield
    finally:
        _PAUSES.end()
