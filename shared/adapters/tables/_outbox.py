"""The outbox of cachekeeper's own events on the journal table.

Partition `outbox` holds one row per event still to publish, keyed by the event's id (derived
from what it is about, `shared/domain/product_events.py`), so the insert is conditional: of two
writers of one event exactly one row results, and a repeat keeps the first. Partition
`outbox_sent` keeps a small marker per published id, so recording the same outcome again (a
retried reaction) does not queue an event the topic already has. The event's JSON is split over
`data`, `data1`, ... (a string column holds at most 64 KiB).
"""

from __future__ import annotations

import logging
from typing import Any

from shared.adapters.tables._client import LazyTable, sdk_errors
from shared.adapters.tables._codec import as_utc
from shared.domain.product_events import ProductEvent
from shared.errors import ConflictError, NotFoundError

__all__ = ["OUTBOX", "SENT", "dequeue", "enqueue", "queued"]

OUTBOX = "outbox"
SENT = "outbox_sent"
_CHUNK = 30_000  # characters per column: at most 60 KiB as UTF-16, below the 64 KiB limit
_log = logging.getLogger(__name__)


def enqueue(table: LazyTable, event: ProductEvent) -> None:
    """Queue `event` unless it is queued or was published already."""
    client = table.client()
    try:
        with sdk_errors(f"read the sent marker of event {event.id}"):
            client.get_entity(SENT, event.id, select=["RowKey"])
        return
    except NotFoundError:
        pass
    text = event.to_json()
    entity: dict[str, Any] = {
        "PartitionKey": OUTBOX,
        "RowKey": event.id,
        "type": event.type,
        "at": as_utc(event.time),
    }
    for index, start in enumerate(range(0, len(text), _CHUNK)):
        entity["data" if index == 0 else f"data{index}"] = text[start : start + _CHUNK]
    try:
        with sdk_errors(f"queue event {event.id}"):
            client.create_entity(entity)
    except ConflictError:
        pass  # queued already: the first one is kept


def queued(table: LazyTable, limit: int) -> list[ProductEvent]:
    """The queued events, oldest first, at most `limit`."""
    if limit <= 0:
        return []
    found: list[ProductEvent] = []
    with sdk_errors("list queued events"):
        for entity in table.client().query_entities(
            "PartitionKey eq @partition", parameters={"partition": OUTBOX}
        ):
            try:
                found.append(ProductEvent.from_json(_joined(entity)))
            except (KeyError, TypeError, ValueError) as exc:
                _log.warning("skipping unreadable outbox row %s: %s",
                             entity.get("RowKey"), type(exc).__name__)  # fmt: skip
    return sorted(found, key=lambda e: (as_utc(e.time), e.id))[:limit]


def dequeue(table: LazyTable, event_id: str) -> None:
    """Mark `event_id` published, then drop its queued row (in that order: a crash between the
    two leaves a row the next drain publishes again under the same id, never a lost event)."""
    from azure.data.tables import UpdateMode

    client = table.client()
    with sdk_errors(f"mark event {event_id} sent"):
        client.upsert_entity({"PartitionKey": SENT, "RowKey": event_id}, mode=UpdateMode.REPLACE)
    with sdk_errors(f"drop queued event {event_id}"):
        client.delete_entity(OUTBOX, event_id)  # missing is fine


def _joined(entity: Any) -> str:
    parts = [str(entity["data"])]
    index = 1
    while f"data{index}" in entity:
        parts.append(str(entity[f"data{index}"]))
        index += 1
    return "".join(parts)
