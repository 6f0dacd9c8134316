"""Turn what the Functions worker hands an Event Grid trigger into plain event JSON.

The worker gives `func.EventGridEvent` for the Event Grid schema and `func.CloudEvent` for
CloudEvents 1.0 (azure-functions >= 1.24); the services read both shapes from JSON.
"""

from __future__ import annotations

from typing import Any

__all__ = ["event_to_json"]


def _time(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def event_to_json(event: Any) -> dict[str, Any]:
    """The event as Event Grid or CloudEvents JSON."""
    if hasattr(event, "specversion"):
        return {
            "specversion": event.specversion,
            "id": event.id,
            "source": event.source,
            "type": event.type,
            "subject": event.subject,
            "time": _time(event.time),
            "data": event.get_json(),
        }
    return {
        "id": event.id,
        "topic": event.topic,
        "subject": event.subject,
        "eventType": event.event_type,
        "eventTime": _time(event.event_time),
        "data": event.get_json(),
        "dataVersion": event.data_version,
    }
