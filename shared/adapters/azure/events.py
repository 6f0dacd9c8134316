"""The EventTopic port over `azure-eventgrid`'s EventGridPublisherClient: cachekeeper's own
CloudEvents to its Event Grid custom topic, as one CloudEvents 1.0 JSON batch per call.

The SDK's async client is used (`AzureClients.event_publisher` says why), on an event loop of
its own per publish: publishing is rare (after a reaction that recorded something, and by the
outbox timer) and runs on the worker's sync threads, which have no loop running."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from shared.adapters.azure.clients import AzureClients
from shared.adapters.azure.errors import translate_errors
from shared.domain.product_events import ProductEvent

if TYPE_CHECKING:
    from azure.core.messaging import CloudEvent

__all__ = ["EventGridTopic"]


class EventGridTopic:
    """Implements EventTopic for the custom topic at `endpoint`
    (`https://<topic>.<region>-1.eventgrid.azure.net/api/events`)."""

    def __init__(self, clients: AzureClients, endpoint: str) -> None:
        self._clients = clients
        self._endpoint = endpoint

    def publish(self, events: Sequence[ProductEvent]) -> None:
        """Send the batch; our errors, never the SDK's (a 4xx is permanent, 429/5xx and the
        network transient)."""
        from azure.core.messaging import CloudEvent

        if not events:
            return
        batch: list[CloudEvent[Any]] = [
            CloudEvent.from_dict(event.to_cloudevent()) for event in events
        ]
        with translate_errors(f"publish {len(batch)} event(s) to the event topic"):
            asyncio.run(self._send(batch))

    async def _send(self, batch: list[CloudEvent[Any]]) -> None:
        async with self._clients.event_publisher(self._endpoint) as client:
            await client.send(batch)
