"""Envelopes: the parts every Event Grid schema or CloudEvents 1.0 event has, read defensively.

Documentation samples carry stray whitespace in keys and values, and envelope keys are compared
case-insensitively (the ACR CloudEvents sample writes `specVersion`). Anything unusable raises
InvalidEventError, which `react()` records and acknowledges (retrying a malformed event cannot
help). Each source's parser (`shared/signals/<source>.py`) reads the `data` inside.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shared.domain.documents import check_limits, encodable
from shared.errors import InvalidDocumentError, InvalidEventError

__all__ = ["Envelope", "epoch", "parse_time", "readable", "text_field"]

_MAX_TEXT = 2048


@dataclass(frozen=True, slots=True)
class Envelope:
    """The parts of an event every schema has: id, source (topic), type, subject, time, data."""

    id: str
    source: str
    type: str
    subject: str
    time: datetime | None
    data: Mapping[str, Any]

    @classmethod
    def from_dict(cls, event: Mapping[str, Any]) -> Envelope:
        """Read an Event Grid schema or CloudEvents 1.0 event given as JSON."""
        if not isinstance(event, Mapping):
            raise InvalidEventError("an event must be a JSON object")
        readable(event)
        keys = {str(k).strip().lower(): v for k, v in event.items()}
        cloud = "specversion" in keys
        return cls.build(
            id=keys.get("id"),
            source=keys.get("source") if cloud else keys.get("topic"),
            type=keys.get("type") if cloud else keys.get("eventtype"),
            subject=keys.get("subject"),
            time=keys.get("time") if cloud else keys.get("eventtime"),
            data=keys.get("data"),
        )

    @classmethod
    def build(
        cls, *, id: Any, source: Any, type: Any, subject: Any, time: Any, data: Any
    ) -> Envelope:
        """Validate the parts (as the Functions worker hands them over) into an Envelope."""
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            raise InvalidEventError("event data must be a JSON object")
        return cls(
            id=text_field(id, "id", required=True),
            source=text_field(source, "topic/source", required=False),
            type=text_field(type, "event type", required=True),
            subject=text_field(subject, "subject", required=False),
            time=parse_time(time),
            data=data,
        )

    @property
    def payload_hash(self) -> str:
        """Hash of what the event says (for idempotency: same id, same payload)."""
        from shared.domain.plans import (
            fingerprint,  # the planners load on first use, not at indexing
        )

        return fingerprint(
            {
                "source": self.source.lower(),
                "type": self.type,
                "subject": self.subject,
                "data": self.data,
            }
        )


def readable(event: Any) -> None:
    """Refuse an event (as the worker parsed it) beyond the document limits of
    `shared.domain.documents`: nesting, a number beyond any float, a lone surrogate."""
    try:
        check_limits(event)
    except InvalidDocumentError as error:
        raise InvalidEventError(f"the event cannot be read: {error}") from None


def text_field(value: Any, name: str, *, required: bool) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InvalidEventError(f"event has no {name}")
        return ""
    if not isinstance(value, str):
        raise InvalidEventError(f"event {name} must be a string")
    if not encodable(value):
        raise InvalidEventError(f"event {name} holds a lone surrogate (not writable as UTF-8)")
    text = value.strip()
    if len(text) > _MAX_TEXT:
        raise InvalidEventError(f"event {name} is longer than {_MAX_TEXT} characters")
    return text


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 time as Event Grid writes it (7 fractional digits, Z), timezone-aware."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str):
        raise InvalidEventError("event time must be an ISO 8601 string")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # Event Grid sends 7 fractional digits; Python reads at most 6.
    head, dot, tail = text.partition(".")
    if dot:
        digits = "".join(c for c in tail if c.isdigit())
        rest = tail[len(digits) :]
        text = f"{head}.{digits[:6]}{rest}"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidEventError(f"event time {value!r} is not ISO 8601") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def epoch(value: Any, name: str) -> datetime | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise InvalidEventError(f"data.{name} must be seconds since 1970")
    try:
        seconds = float(value.strip()) if isinstance(value, str) else float(value)
    except OverflowError:  # an integer beyond any float (10**400)
        raise InvalidEventError(f"data.{name} is out of range") from None
    except (TypeError, ValueError):
        raise InvalidEventError(f"data.{name} must be seconds since 1970") from None
    if not math.isfinite(seconds) or not 0 <= seconds < 253402300800:  # before year 10000
        raise InvalidEventError(f"data.{name} is out of range")
    return datetime.fromtimestamp(seconds, tz=UTC)
