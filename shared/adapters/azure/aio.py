"""Running the SDKs' asyncio clients from the synchronous ports.

A batch of chained reads (every registry's cache-rule pages, each page's `nextLink` leading to the
next) is sent from one event loop instead of one thread per chain: the calls still overlap on
the network, and their CPU is spent in one thread instead of thirty contending for the
interpreter, which is what limited the full audit (figure 5 in `docs/performance.md`).
The synchronous ports stay the only interface: `run_coroutine` runs a batch to completion.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from azure.core.credentials import AccessToken, TokenCredential

__all__ = ["AsyncCredential", "gather_in_order", "run_coroutine"]

_T = TypeVar("_T")


def run_coroutine(start: Callable[[], Coroutine[Any, Any, _T]]) -> _T:
    """Run the coroutine `start()` makes to completion on a fresh event loop and return its
    result. From a thread whose loop is already running (an `async def` caller), it runs on a
    loop of its own in a helper thread instead of nesting in the caller's loop; being a
    synchronous call, it still holds that loop up until it returns."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(start())
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="cachekeeper-aio") as helper:
        return helper.submit(lambda: asyncio.run(start())).result()


async def gather_in_order(calls: Iterable[Awaitable[_T]], *, limit: int) -> list[_T]:
    """Await every call (a coroutine not started yet), at most `limit` at once; results in input
    order. The first error (in input order) is raised after every call has finished, so
    nothing is left running."""
    gate = asyncio.Semaphore(max(1, limit))

    async def bounded(call: Awaitable[_T]) -> _T:
        async with gate:
            return await call

    results = await asyncio.gather(*(bounded(c) for c in calls), return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results  # type: ignore[return-value]  # no exception left in it


class AsyncCredential:
    """An `AsyncTokenCredential` over the worker's synchronous credential, so the asyncio clients
    authenticate as the synchronous ones do, from the same token cache. Each token request runs in
    a thread (it may have to reach the identity endpoint), so it never blocks the event loop; the
    pipeline's authentication policy asks only when its token is about to expire."""

    def __init__(self, credential: TokenCredential) -> None:
        self._credential = credential

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        """The synchronous credential's token for these scopes."""
        return await asyncio.to_thread(self._credential.get_token, *scopes, **kwargs)

    async def close(self) -> None:
        """The synchronous credential belongs to the worker: nothing to close here."""

    async def __aenter__(self) -> AsyncCredential:
        return self

    async def __aexit__(self, *args: object) -> None:
        return None
