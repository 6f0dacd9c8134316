"""The asyncio helpers of the Azure adapters (shared/adapters/azure/aio.py): a batch of coroutines
run to completion from synchronous code, at most `limit` at once, results and errors in input
order, and the worker's synchronous credential offered to the SDKs' asyncio clients."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable
from typing import Any

import pytest
from azure.core.credentials import AccessToken

from sandbox import StaticTokenCredential
from sandbox.transport import FAKE_TOKEN
from shared.adapters.azure.aio import AsyncCredential, gather_in_order, run_coroutine


class RecordingCredential:
    """A synchronous azure-core TokenCredential that records how it was asked."""

    def __init__(self) -> None:
        self.calls: list[tuple[tuple[str, ...], dict[str, Any], str]] = []
        self.closed = False

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.calls.append((scopes, kwargs, threading.current_thread().name))
        return AccessToken(f"token-for-{'+'.join(scopes)}", int(time.time()) + 3600)

    def close(self) -> None:
        self.closed = True


# ---- run_coroutine ------------------------------------------------------------------------------
async def _loop_and_value(value: int) -> tuple[asyncio.AbstractEventLoop, int]:
    await asyncio.sleep(0)
    return asyncio.get_running_loop(), value


def test_run_coroutine_returns_the_result_from_plain_synchronous_code() -> None:
    loop, value = run_coroutine(lambda: _loop_and_value(7))
    assert value == 7
    assert loop.is_closed()  # a fresh loop of its own, closed when the batch is done


def test_run_coroutine_works_from_inside_a_running_event_loop() -> None:
    async def async_caller() -> tuple[asyncio.AbstractEventLoop, asyncio.AbstractEventLoop, int]:
        outer = asyncio.get_running_loop()
        inner, value = run_coroutine(lambda: _loop_and_value(42))  # synchronously, in a coroutine
        return outer, inner, value

    outer, inner, value = asyncio.run(async_caller())
    assert value == 42
    assert inner is not outer  # it did not nest in the caller's loop
    assert inner.is_closed()


def test_run_coroutine_raises_what_the_coroutine_raised_in_both_cases() -> None:
    async def failing() -> int:
        await asyncio.sleep(0)
        raise LookupError("from the batch")

    with pytest.raises(LookupError, match="from the batch"):
        run_coroutine(failing)

    async def async_caller() -> int:
        return run_coroutine(failing)

    with pytest.raises(LookupError, match="from the batch"):
        asyncio.run(async_caller())


def test_run_coroutine_starts_the_coroutine_only_once() -> None:
    started: list[int] = []

    async def counted() -> int:
        started.append(1)
        return len(started)

    assert run_coroutine(counted) == 1

    async def async_caller() -> int:
        return run_coroutine(counted)

    assert asyncio.run(async_caller()) == 2
    assert started == [1, 1]


# ---- gather_in_order ----------------------------------------------------------------------------
class Tracker:
    """Counts the calls running at once."""

    def __init__(self) -> None:
        self.running = 0
        self.peak = 0
        self.finished: list[int] = []

    async def call(self, index: int, seconds: float, *, fail: bool = False) -> int:
        self.running += 1
        self.peak = max(self.peak, self.running)
        try:
            await asyncio.sleep(seconds)
            if fail:
                raise ValueError(f"call {index} failed")
            return index * 10
        finally:
            self.running -= 1
            self.finished.append(index)


def test_gather_in_order_keeps_input_order_when_calls_finish_in_reverse() -> None:
    tracker = Tracker()
    durations = [0.05, 0.04, 0.03, 0.02, 0.01, 0.0]
    calls = [tracker.call(i, s) for i, s in enumerate(durations)]
    results = asyncio.run(gather_in_order(calls, limit=len(calls)))
    assert results == [0, 10, 20, 30, 40, 50]
    assert tracker.finished == [5, 4, 3, 2, 1, 0]  # they did finish out of order


@pytest.mark.parametrize(("limit", "peak"), [(1, 1), (2, 2), (3, 3), (0, 1), (-4, 1)])
def test_gather_in_order_never_runs_more_than_limit_calls_at_once(limit: int, peak: int) -> None:
    tracker = Tracker()
    calls = (tracker.call(i, 0.005) for i in range(8))  # a generator, as the adapter passes
    results = asyncio.run(gather_in_order(calls, limit=limit))
    assert results == [i * 10 for i in range(8)]
    assert tracker.peak == peak
    assert tracker.running == 0


def test_gather_in_order_raises_the_first_error_in_input_order_after_every_call_finished() -> None:
    tracker = Tracker()
    calls: list[Awaitable[int]] = [
        tracker.call(0, 0.0),
        tracker.call(1, 0.03, fail=True),  # first in input order, fails last of the failures
        tracker.call(2, 0.0, fail=True),  # fails first in time
        tracker.call(3, 0.06),  # the slowest, still running when both have failed
    ]
    with pytest.raises(ValueError, match="call 1 failed"):
        asyncio.run(gather_in_order(calls, limit=4))
    assert sorted(tracker.finished) == [0, 1, 2, 3]
    assert tracker.finished[-1] == 3  # the slow call completed before the error came out
    assert tracker.running == 0


def test_gather_in_order_of_nothing_is_an_empty_list() -> None:
    assert asyncio.run(gather_in_order([], limit=3)) == []


# ---- AsyncCredential ----------------------------------------------------------------------------
def test_async_credential_asks_the_synchronous_one_with_the_same_scopes_in_a_thread() -> None:
    sync = RecordingCredential()

    async def ask() -> tuple[AccessToken, str]:
        async with AsyncCredential(sync) as credential:
            token = await credential.get_token(
                "https://management.azure.com/.default", tenant_id="t1", enable_cae=True
            )
        return token, threading.current_thread().name

    token, loop_thread = asyncio.run(ask())
    assert token.token == "token-for-https://management.azure.com/.default"
    assert len(sync.calls) == 1
    scopes, kwargs, thread = sync.calls[0]
    assert scopes == ("https://management.azure.com/.default",)
    assert kwargs == {"tenant_id": "t1", "enable_cae": True}
    assert thread != loop_thread  # the loop's thread never waits on the identity endpoint
    assert not sync.closed  # the synchronous credential belongs to the worker


def test_async_credential_over_the_sandbox_credential_returns_its_token() -> None:
    async def ask() -> AccessToken:
        credential = AsyncCredential(StaticTokenCredential())
        try:
            return await credential.get_token("https://vault.azure.net/.default")
        finally:
            await credential.close()

    token = asyncio.run(ask())
    assert token.token == FAKE_TOKEN
    assert token.expires_on > time.time()


def test_async_credential_passes_the_synchronous_credentials_error_through() -> None:
    class Refusing:
        def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
            raise PermissionError("identity endpoint said no")

    async def ask() -> AccessToken:
        return await AsyncCredential(Refusing()).get_token("scope")

    with pytest.raises(PermissionError, match="identity endpoint said no"):
        asyncio.run(ask())
