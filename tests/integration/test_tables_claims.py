"""Idempotency claims on Azurite: the claim lifecycle, odd keys, and two workers racing."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from azure.data.tables import TableServiceClient

from shared.adapters.tables import TableJournal, tables_service
from shared.domain.plans import IdempotencyStatus
from shared.errors import ConcurrencyError, NotFoundError
from shared.ports import Claim, ClaimStatus
from tests.integration.conftest_tables import (  # noqa: F401 - fixtures
    connection_string_fixture,
    journal_fixture,
    service_fixture,
    table_fixture,
)

pytestmark = pytest.mark.azurite

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
TTL = timedelta(hours=1)
ODD_KEYS = [
    "a/b\\c#d?e",
    "ünïcødé-事件-🚀",
    "tab\tnewline\ncontrol\x01",
    "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv#evt?x=1",
    "k" * 2_000,
]


def test_a_claim_goes_new_in_progress_completed_duplicate(journal: TableJournal) -> None:
    first = journal.claim("evt-1", "hash-a", now=NOW, ttl=TTL)
    assert first.status is ClaimStatus.NEW
    assert (
        first.record.status is IdempotencyStatus.IN_PROGRESS
        and first.record.expires_at == NOW + TTL
    )
    busy = journal.claim("evt-1", "hash-a", now=NOW + timedelta(minutes=1), ttl=TTL)
    assert busy.status is ClaimStatus.IN_PROGRESS and busy.record == first.record
    journal.complete(first, now=NOW + timedelta(minutes=2), ttl=TTL)
    done = journal.claim("evt-1", "hash-a", now=NOW + timedelta(minutes=3), ttl=TTL)
    assert done.status is ClaimStatus.DUPLICATE
    assert done.record.status is IdempotencyStatus.COMPLETED
    assert done.record.expires_at == NOW + timedelta(minutes=2) + TTL
    other = journal.claim("evt-1", "hash-b", now=NOW + timedelta(minutes=3), ttl=TTL)
    assert other.status is ClaimStatus.PAYLOAD_MISMATCH and other.record.payload_hash == "hash-a"


def test_an_expired_claim_is_taken_over(journal: TableJournal) -> None:
    journal.claim("evt-1", "hash-a", now=NOW, ttl=TTL)
    later = NOW + TTL  # expiry is inclusive, as in the memory journal
    taken = journal.claim("evt-1", "hash-b", now=later, ttl=TTL)
    assert taken.status is ClaimStatus.NEW and taken.record.payload_hash == "hash-b"
    assert journal.claim("evt-1", "hash-b", now=later, ttl=TTL).status is ClaimStatus.IN_PROGRESS
    journal.complete(taken, now=later, ttl=TTL)
    assert journal.claim("evt-1", "hash-b", now=later + TTL, ttl=TTL).status is ClaimStatus.NEW


def test_release_lets_a_redelivery_claim_again(journal: TableJournal) -> None:
    first = journal.claim("evt-1", "hash-a", now=NOW, ttl=TTL)
    journal.release(first)
    journal.release(first)  # releasing what is not there is fine
    assert journal.claim("evt-1", "hash-a", now=NOW, ttl=TTL).status is ClaimStatus.NEW


def test_a_release_leaves_a_claim_completed_or_taken_over_since(journal: TableJournal) -> None:
    done = journal.claim("evt-1", "h", now=NOW, ttl=TTL)
    journal.complete(done, now=NOW, ttl=TTL)
    journal.release(done)
    assert journal.claim("evt-1", "h", now=NOW, ttl=TTL).status is ClaimStatus.DUPLICATE
    stale = journal.claim("evt-2", "h", now=NOW, ttl=TTL)
    taken = journal.claim("evt-2", "h", now=NOW + TTL, ttl=TTL)
    assert taken.status is ClaimStatus.NEW and taken.token != stale.token
    journal.release(stale)
    assert journal.claim("evt-2", "h", now=NOW + TTL, ttl=TTL).status is ClaimStatus.IN_PROGRESS
    with pytest.raises(ConcurrencyError, match="another attempt"):
        journal.complete(stale, now=NOW + TTL, ttl=TTL)
    journal.complete(taken, now=NOW + TTL, ttl=TTL)
    assert journal.claim("evt-2", "h", now=NOW + TTL, ttl=TTL).status is ClaimStatus.DUPLICATE


def test_completing_a_released_claim_is_not_found(journal: TableJournal) -> None:
    ghost = journal.claim("ghost", "h", now=NOW, ttl=TTL)
    journal.release(ghost)
    with pytest.raises(NotFoundError, match="no claim"):
        journal.complete(ghost, now=NOW, ttl=TTL)


@pytest.mark.parametrize(
    "key", ODD_KEYS, ids=["separators", "unicode", "control", "resource-id", "long"]
)
def test_keys_with_characters_tables_forbid_work(journal: TableJournal, key: str) -> None:
    first = journal.claim(key, "h", now=NOW, ttl=TTL)
    assert first.status is ClaimStatus.NEW
    assert journal.claim(key, "h", now=NOW, ttl=TTL).record.key == key
    journal.complete(first, now=NOW, ttl=TTL)
    assert journal.claim(key, "h", now=NOW, ttl=TTL).status is ClaimStatus.DUPLICATE
    other = journal.claim(key + "x", "h", now=NOW, ttl=TTL)
    assert other.status is ClaimStatus.NEW
    journal.release(other)
    assert journal.claim(key + "x", "h", now=NOW, ttl=TTL).status is ClaimStatus.NEW


def test_a_naive_now_is_taken_as_utc(journal: TableJournal) -> None:
    naive = NOW.replace(tzinfo=None)
    assert journal.claim("evt", "h", now=naive, ttl=TTL).record.expires_at == NOW + TTL


def test_an_unreadable_claim_is_taken_over(
    journal: TableJournal, service: TableServiceClient, table: str
) -> None:
    journal.claim("evt", "h", now=NOW, ttl=TTL)
    raw = service.get_table_client(table)
    [row] = raw.list_entities()
    raw.upsert_entity({**row, "status": "???"})
    assert journal.claim("evt", "h", now=NOW, ttl=TTL).status is ClaimStatus.NEW


def race(
    connection: str, table: str, attempt: Callable[[TableJournal], Claim]
) -> list[ClaimStatus]:
    """Two workers, each with its own client, call `attempt` at the same moment."""
    workers = [TableJournal(tables_service(connection), table) for _ in range(2)]
    for worker in workers:  # create the table up front so the race is about the claim
        worker.outcomes(limit=1)
    start = threading.Barrier(len(workers))
    results: list[ClaimStatus] = []
    errors: list[BaseException] = []

    def run(worker: TableJournal) -> None:
        try:
            start.wait(timeout=10)
            results.append(attempt(worker).status)
        except BaseException as exc:  # surfaced below; a thread's exception would be lost
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    return sorted(results)


def test_two_workers_claiming_at_once_get_exactly_one_new(
    connection_string: str, table: str
) -> None:
    for round_ in range(20):
        key = f"evt-{round_}"
        statuses = race(
            connection_string, table, lambda j, k=key: j.claim(k, "h", now=NOW, ttl=TTL)
        )
        assert statuses == sorted([ClaimStatus.NEW, ClaimStatus.IN_PROGRESS]), round_


def test_two_workers_taking_over_an_expired_claim_get_exactly_one_new(
    connection_string: str,
    journal: TableJournal,
    table: str,
) -> None:
    later = NOW + TTL
    for round_ in range(10):
        key = f"stale-{round_}"
        journal.claim(key, "h", now=NOW, ttl=TTL)
        statuses = race(
            connection_string, table, lambda j, k=key: j.claim(k, "h", now=later, ttl=TTL)
        )
        assert statuses == sorted([ClaimStatus.NEW, ClaimStatus.IN_PROGRESS]), round_
