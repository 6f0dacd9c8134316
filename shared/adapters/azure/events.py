"""The EventTopic port over `azure-eventgrid`'s EventGridPublisherClient: cachekeeper's own
CloudEvents to its Event Grid custom topic, as one CloudEvents 1.0 JSON batch per call."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shared.adapters.azure.clients import AzureClients
from shared.adapters.azure.errors import translate_errors
from shared.domain.product_events import ProductEvent

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
            self._clients.event_topic(self._endpoint).send(batch)
