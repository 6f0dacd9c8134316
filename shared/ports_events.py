"""The event ports: the journal's outbox of cachekeeper's own events, and the topic they are
published to (see `shared/ports.py`; `Journal` extends `EventOutbox`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from shared.domain.product_events import ProductEvent

__all__ = ["EventOutbox", "EventTopic"]


class EventOutbox(Protocol):
    """Events waiting to be published, kept by the journal until the topic accepted them."""

    def enqueue_event(self, event: ProductEvent) -> None:
        """Keep `event` to publish, once per id: a repeat keeps the first (a conditional insert)."""
        ...

    def queued_events(self, *, limit: int = 100) -> list[ProductEvent]:
        """Events still to publish, oldest first, at most `limit`."""
        ...

    def dequeue_event(self, event_id: str) -> None:
        """Drop an event the topic accepted (a missing one is fine)."""
        ...


class EventTopic(Protocol):
    """An Event Grid custom topic taking CloudEvents 1.0."""

    def publish(self, events: Sequence[ProductEvent]) -> None:
        """Send one batch (at most 1 MB, the caller's job); raises our errors (transient ones
        when it may work later), never an SDK's."""
        ...
