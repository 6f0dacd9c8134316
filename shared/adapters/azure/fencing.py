"""Fenced writes: a check that runs in the SDK pipeline right before each attempt is sent.

Every client `AzureClients` builds carries `raw_request_hook=check_fence` (azure-core's
CustomHookPolicy, which runs after the retry policy: on every attempt, retries included). A call
made inside `fenced(fence)` runs `fence()` before sending any write (every method but GET and
HEAD); `fence` raises (ConcurrencyError: the lease is lost or too short) and nothing is sent.
The hook runs in the calling thread, so a context variable scopes the fence to one call.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["check_fence", "fenced"]

_FENCE: contextvars.ContextVar[Callable[[], None] | None] = contextvars.ContextVar(
    "cachekeeper_write_fence", default=None
)
_READS = frozenset({"GET", "HEAD"})


@contextmanager
def fenced(fence: Callable[[], None] | None) -> Iterator[None]:
    """Check `fence` before every write attempt the SDK sends inside the block."""
    token = _FENCE.set(fence)
    try:
        yield
    finally:
        _FENCE.reset(token)


def check_fence(request: Any) -> None:
    """azure-core request hook: run the current fence before a write attempt is sent."""
    fence = _FENCE.get()
    if fence is not None and str(request.http_request.method).upper() not in _READS:
        fence()
