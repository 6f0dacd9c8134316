"""The outbox of cachekeeper's own events on the journal table (Azurite), and the same rules in
the memory journal: one row per event id, oldest first, a published id never queued again, large
events split over columns and read back whole; and a drain through the sandbox topic."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from azure.data.tables import TableServiceClient

from sandbox import Sandbox, wiring
from shared.adapters.memory import MemoryJournal, MemoryPolicyStore
from shared.adapters.tables import TableJournal
from shared.domain.plans import ActionKind, Outcome, OutcomeStatus
from shared.domain.product_events import ProductEvent, action_applied
from shared.ports import Journal
from shared.services.event_publisher import publish_pending
from tests.integration.app_context import demo_settings
from tests.integration.conftest_tables import (  # noqa: F401 - fixtures
    connection_string_fixture,
    journal_fixture,
    service_fixture,
    table_fixture,
)

pytestmark = pytest.mark.azurite

AT = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
SET = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/r/credentialSets/hub"
TOPIC = "cachekeeper-events.westeurope-1.eventgrid.azure.net"


def applied(n: int, *, at: datetime = AT, reason: str = "moved") -> ProductEvent:
    outcome = Outcome(f"evt-{n}", SET, OutcomeStatus.SUCCEEDED, reason, at,
                      ActionKind.UPDATE_CREDENTIAL_SET)  # fmt: skip
    event = action_applied(outcome)
    assert event is not None
    return event


@pytest.fixture(params=["tables", "memory"])
def outbox(request: pytest.FixtureRequest, service: TableServiceClient, table: str) -> Journal:
    return TableJournal(service, table) if request.param == "tables" else MemoryJournal()


def test_an_event_is_queued_once_however_often_and_however_concurrently(outbox: Journal) -> None:
    event = applied(1)
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda _: outbox.enqueue_event(event), range(8)))
    assert outbox.queued_events() == [event]


def test_queued_events_come_oldest_first_within_the_limit(outbox: Journal) -> None:
    events = [applied(n, at=AT + timedelta(minutes=10 - n)) for n in range(5)]
    for event in events:
        outbox.enqueue_event(event)
    assert [e.id for e in outbox.queued_events()] == [e.id for e in reversed(events)]
    assert [e.id for e in outbox.queued_events(limit=2)] == [events[4].id, events[3].id]


def test_a_published_event_is_never_queued_again(outbox: Journal) -> None:
    event = applied(2)
    outbox.enqueue_event(event)
    outbox.dequeue_event(event.id)
    outbox.dequeue_event(event.id)  # a repeat is fine
    outbox.enqueue_event(event)  # the same outcome recorded again by a retried reaction
    assert outbox.queued_events() == []


def test_a_large_event_is_kept_whole(outbox: Journal) -> None:
    event = applied(3, reason="é" * 3_000 + "x" * 100_000)  # the reason is cut to 4 KiB
    big = ProductEvent(event.id, event.type, event.subject, event.time,
                       {**event.data, "after": {"note": "n" * 200_000}})  # fmt: skip
    outbox.enqueue_event(big)
    [back] = outbox.queued_events()
    assert back == big
    assert len(json.dumps(back.data["after"])) > 200_000


def test_a_drain_publishes_the_table_outbox_to_the_topic_and_empties_it(
    service: TableServiceClient, table: str
) -> None:
    sandbox = Sandbox()
    journal = TableJournal(service, table)
    ctx = wiring.sandbox_context(
        sandbox,
        demo_settings(EVENTS_TOPIC_ENDPOINT=f"https://{TOPIC}/api/events"),
        policies=MemoryPolicyStore(),
        journal=journal,
        sleep_scale=0,
    )
    events = [applied(n, at=AT + timedelta(seconds=n)) for n in range(3)]
    for event in events:
        journal.enqueue_event(event)
    assert publish_pending(ctx) == 3
    assert [e["id"] for e in sandbox.topics.events(TOPIC)] == [e.id for e in events]
    assert journal.queued_events() == []
    assert publish_pending(ctx) == 0
    assert sandbox.topics.batches == 1
