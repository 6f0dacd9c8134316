"""Pending signals and budgets, the same on both journals: in memory and on Azurite (where two
workers, each with its own client, race for the last unit of a budget)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from azure.data.tables import TableServiceClient

from shared.adapters.memory import MemoryJournal
from shared.adapters.tables import TableJournal, tables_service
from shared.ports import Journal, PendingSignal
from tests.integration.conftest_tables import (  # noqa: F401 - fixtures
    connection_string_fixture,
    service_fixture,
    table_fixture,
)

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture(params=["memory", pytest.param("table", marks=pytest.mark.azurite)])
def journal(request: pytest.FixtureRequest) -> Journal:
    if request.param == "memory":
        return MemoryJournal()
    service: TableServiceClient = request.getfixturevalue("service")
    return TableJournal(service, request.getfixturevalue("table"))


def signal(signal_id: str, key: str = "pull:set:1") -> PendingSignal:
    return PendingSignal(key, signal_id, f'{{"id": "{signal_id}"}}', NOW)


def test_the_newest_pending_signal_wins_and_is_dropped_only_as_read(journal: Journal) -> None:
    assert journal.pending_signal("pull:set:1") is None
    journal.keep_pending(signal("first"))
    read = journal.pending_signal("pull:set:1")
    assert read is not None and read.signal_id == "first" and read.version
    assert read.payload == '{"id": "first"}' and read.at == NOW
    journal.keep_pending(signal("second"))  # arrives after the holder read "first"
    assert journal.drop_pending(read) is False  # the newer one is kept
    newer = journal.pending_signal("pull:set:1")
    assert newer is not None and newer.signal_id == "second" and newer.version != read.version
    assert journal.drop_pending(newer) is True
    assert journal.pending_signal("pull:set:1") is None
    assert journal.drop_pending(newer) is True  # gone already: nothing is pending


def test_pending_signals_are_listed_oldest_first(journal: Journal) -> None:
    journal.keep_pending(PendingSignal("k-late", "b", "{}", NOW + timedelta(seconds=5)))
    journal.keep_pending(PendingSignal("k-early", "a", "{}", NOW))
    assert [p.key for p in journal.pending_signals()] == ["k-early", "k-late"]
    assert [p.key for p in journal.pending_signals(limit=1)] == ["k-early"]


def test_a_budget_is_spent_up_to_its_limit_refunded_and_forgotten(journal: Journal) -> None:
    spent = [journal.spend("b", limit=3, now=NOW, ttl=HOUR) for _ in range(4)]
    assert spent == [True, True, True, False]
    journal.refund("b", now=NOW)
    assert journal.spend("b", limit=3, now=NOW, ttl=HOUR) is True
    assert journal.spend("b", limit=3, now=NOW, ttl=HOUR) is False
    assert journal.spend("other", limit=3, now=NOW, ttl=HOUR) is True  # its own budget
    later = NOW + HOUR  # the budget started at NOW is forgotten
    assert [journal.spend("b", limit=3, now=later, ttl=HOUR) for _ in range(4)] == [
        True,
        True,
        True,
        False,
    ]
    for _ in range(5):
        journal.refund("b", now=later)
    assert journal.spend("b", limit=1, now=later, ttl=HOUR) is True  # never below zero
    assert journal.spend("b", limit=1, now=later, ttl=HOUR) is False


def race(workers: list[Journal], attempt: Callable[[Journal], bool]) -> list[bool]:
    start = threading.Barrier(len(workers))
    results: list[bool] = []
    errors: list[BaseException] = []

    def run(worker: Journal) -> None:
        try:
            start.wait(timeout=10)
            results.extend(attempt(worker) for _ in range(5))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


@pytest.mark.azurite
def test_workers_racing_for_a_budget_never_take_more_than_its_limit(
    connection_string: str, table: str
) -> None:
    workers: list[Journal] = [
        TableJournal(tables_service(connection_string), table) for _ in range(4)
    ]
    workers[0].pending_signal("warm-up")  # create the table first, so the race is about the budget
    for round_ in range(3):
        key = f"rules-{round_}"

        def spend(journal: Journal, key: str = key) -> bool:
            return journal.spend(key, limit=7, now=NOW, ttl=HOUR)

        assert race(workers, spend).count(True) == 7, round_
