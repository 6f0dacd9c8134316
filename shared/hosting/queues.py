"""The queue trigger's options as the Functions host reads them: `extensions.queues` of host.json,
each overridable by the app setting `AzureFunctionsJobHost__extensions__queues__<name>`.

The defaults and the rules are those of the Storage Queues extension (QueuesOptions, QueueListener,
QueueProcessor of Microsoft.Azure.WebJobs.Extensions.Storage.Queues, sources in docs/fidelity.md):
polls back off exponentially from 100 ms up to `maxPollingInterval` (1 minute) while the queue is
empty; up to `batchSize` messages (16) are fetched at once, and a new batch is fetched when no more
than `newBatchThreshold` (batchSize / 2) are still running; a failed message becomes visible again
after `visibilityTimeout` (0) and, once dequeued `maxDequeueCount` times (5), is moved to
`<queue>-poison`; message bodies are base64 (`messageEncoding`).
"""

from __future__ import annotations

import json
import os
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

__all__ = [
    "MIN_POLLING_INTERVAL",
    "Backoff",
    "QueueOptions",
    "host_queue_options",
    "parse_queue_options",
]

MIN_POLLING_INTERVAL = timedelta(milliseconds=100)  # QueuePollingIntervals.Minimum
_OVERRIDE = "AzureFunctionsJobHost__extensions__queues__"
_TIMESPAN = re.compile(r"(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?", re.ASCII)
_HOST_JSON = Path(__file__).resolve().parents[2] / "host.json"


@dataclass(frozen=True, slots=True)
class QueueOptions:
    batch_size: int = 16
    new_batch_threshold: int = 8
    max_dequeue_count: int = 5
    max_polling_interval: timedelta = timedelta(minutes=1)
    visibility_timeout: timedelta = timedelta(0)
    message_encoding: str = "base64"


def _timespan(name: str, value: Any) -> timedelta:
    if isinstance(value, int) and not isinstance(value, bool):
        return timedelta(milliseconds=value)  # the 1.x form: milliseconds
    found = _TIMESPAN.fullmatch(str(value).strip())
    if not found:
        raise ValueError(f"queues.{name} must be a time span like 00:00:30, not {value!r}")
    days, hours, minutes, seconds, fraction = found.groups()
    return timedelta(
        days=int(days or 0), hours=int(hours), minutes=int(minutes), seconds=int(seconds),
        microseconds=int((fraction or "0").ljust(7, "0")) // 10,
    )  # fmt: skip


def _whole(name: str, value: Any, low: int, high: int) -> int:
    number = int(value)
    if not low <= number <= high:
        raise ValueError(f"queues.{name} must be from {low} to {high}, not {number}")
    return number


def parse_queue_options(section: Mapping[str, Any], environ: Mapping[str, str]) -> QueueOptions:
    """The options of host.json's `extensions.queues`, app-setting overrides applied (names are
    case-insensitive, as in the host's configuration); ValueError when one is invalid."""
    merged = {k.lower(): v for k, v in section.items()}
    for key, value in environ.items():
        if key.lower().startswith(_OVERRIDE.lower()):
            merged[key[len(_OVERRIDE) :].lower()] = value
    batch = _whole("batchSize", merged.get("batchsize", 16), 1, 32)
    threshold = merged.get("newbatchthreshold")
    encoding = str(merged.get("messageencoding", "base64")).lower()
    if encoding not in ("base64", "none"):
        raise ValueError(f"queues.messageEncoding must be base64 or none, not {encoding!r}")
    polling = _timespan("maxPollingInterval", merged.get("maxpollinginterval", "00:01:00"))
    if polling < MIN_POLLING_INTERVAL:
        raise ValueError("queues.maxPollingInterval must be at least 100 ms")
    return QueueOptions(
        batch_size=batch,
        new_batch_threshold=batch // 2 if threshold is None else _whole("newBatchThreshold", threshold, 0, 10_000),
        max_dequeue_count=_whole("maxDequeueCount", merged.get("maxdequeuecount", 5), 1, 10_000),
        max_polling_interval=polling,
        visibility_timeout=_timespan("visibilityTimeout", merged.get("visibilitytimeout", "00:00:00")),
        message_encoding=encoding,
    )  # fmt: skip


def host_queue_options(
    host_json: Path = _HOST_JSON, environ: Mapping[str, str] | None = None
) -> QueueOptions:
    """The options of this app's host.json and the process's app settings."""
    document = json.loads(host_json.read_text(encoding="utf-8"))
    section = (document.get("extensions") or {}).get("queues") or {}
    return parse_queue_options(section, os.environ if environ is None else environ)


class Backoff:
    """The extension's RandomizedExponentialBackoffStrategy between polls: reset to the minimum
    after a poll that found messages, otherwise minimum + 2^(n-1) * minimum * random(0.8..1.2),
    growing until it reaches `maximum`, then staying there."""

    RANDOMIZATION = 0.2

    def __init__(self, maximum: timedelta, *, rng: random.Random | None = None) -> None:
        self.minimum = min(MIN_POLLING_INTERVAL, maximum)
        self.maximum = maximum
        self._rng = rng or random.Random()  # noqa: S311 - poll jitter, not a secret
        self._current = self.minimum
        self._exponent = 0

    def next_delay(self, *, found_messages: bool) -> timedelta:
        if found_messages:
            self._current, self._exponent = self.minimum, 1
        elif self._current != self.maximum:
            interval = self.minimum
            if self._exponent > 0:
                factor = self._rng.uniform(1 - self.RANDOMIZATION, 1 + self.RANDOMIZATION)
                interval += self.minimum * factor * 2 ** (self._exponent - 1)
            if interval < self.maximum:
                self._current = interval
                self._exponent += 1
            else:
                self._current = self.maximum
        return self._current
