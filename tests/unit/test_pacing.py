"""The request pacer's waits (shared/adapters/azure/pacing.py) on a clock of the test's own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.adapters.azure.pacing import RequestPacer
from shared.domain.request_budget import MAX_THROTTLED_ANSWERS
from shared.errors import ThrottleBudgetError

T0 = datetime(2026, 6, 1, tzinfo=UTC)
READS = (
    "https://management.azure.com/subscriptions/s1/providers/Microsoft.ContainerRegistry/registries"
)


class FrozenTime:
    """A clock that only moves when told to (`moves`); records what was waited for."""

    def __init__(self, *, moves: bool) -> None:
        self.now_value = T0
        self.moves = moves
        self.waits: list[datetime] = []

    def now(self) -> datetime:
        return self.now_value

    def wait_until(self, when: datetime) -> None:
        self.waits.append(when)
        if self.moves:
            self.now_value = max(self.now_value, when)


def test_a_retry_after_is_waited_for_once_even_on_a_clock_that_does_not_move() -> None:
    waiting = FrozenTime(moves=False)
    pacer = RequestPacer(waiting=waiting)
    bucket = pacer.bucket("GET", READS)
    assert bucket is not None
    deadline = T0 + timedelta(minutes=2)
    pacer.acquire(bucket, deadline)
    pacer.answered(bucket, {"Retry-After": "5"})
    pacer.throttled(bucket, {"Retry-After": "5"}, 0, deadline)
    pacer.acquire(bucket, deadline)  # waits the 5 s, then goes: no endless wait
    assert waiting.waits == [T0 + timedelta(seconds=5)]


def test_reads_wait_for_the_refill_above_the_reserve() -> None:
    waiting = FrozenTime(moves=True)
    pacer = RequestPacer(waiting=waiting, read_reserve=10)
    bucket = pacer.bucket("GET", READS)
    assert bucket is not None
    deadline = T0 + timedelta(minutes=2)
    pacer.acquire(bucket, deadline)
    pacer.answered(bucket, {"x-ms-ratelimit-remaining-subscription-reads": "11"})
    pacer.acquire(bucket, deadline)  # leaves 10: no wait
    assert waiting.waits == []
    pacer.acquire(bucket, deadline)  # would leave 9: waits one token's refill (1/25 s)
    assert waiting.waits == [T0 + timedelta(seconds=1 / 25)]


def test_past_the_deadline_or_too_many_429s_nothing_more_is_sent() -> None:
    waiting = FrozenTime(moves=False)
    pacer = RequestPacer(waiting=waiting)
    bucket = pacer.bucket("GET", READS)
    assert bucket is not None
    with pytest.raises(ThrottleBudgetError, match="past the time budget"):
        pacer.throttled(bucket, {"Retry-After": "30"}, 0, T0 + timedelta(seconds=10))
    with pytest.raises(ThrottleBudgetError, match="429"):
        pacer.throttled(bucket, {}, MAX_THROTTLED_ANSWERS - 1, T0 + timedelta(hours=1))


def test_only_arm_and_key_vault_are_metered() -> None:
    pacer = RequestPacer()
    assert pacer.bucket("GET", "https://graph.microsoft.com/v1.0/servicePrincipals/x") is None
    assert pacer.bucket("GET", "https://contosocache.azurecr.io/acr/v1/_catalog") is None
    vault = pacer.bucket("GET", "https://kv-one.vault.azure.net/secrets/s/versions")
    assert vault is not None and vault.keyvault
    assert pacer.bucket("DELETE", READS) is not pacer.bucket("GET", READS)
