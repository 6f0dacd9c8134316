"""Queue output bindings of the local host: what a function sets on one is written to its queue
once the function has returned, base64-encoded unless host.json says `messageEncoding: none`,
creating the queue when it does not exist, as the Storage Queues extension's output binding does.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from devhost.queue_service import QueueError, QueueService
from shared.hosting.queues import QueueOptions, host_queue_options

__all__ = ["OutValue", "QueueOutput", "queue_options", "queue_service", "write_outputs"]

_DEV_STORAGE = "usedevelopmentstorage=true"


@dataclass(frozen=True, slots=True)
class QueueOutput:
    """A queue output binding: the argument the function sets, and where its messages go."""

    arg_name: str
    queue_name: str
    connection: str


class OutValue:
    """What the worker passes for an output binding (`func.Out`): the value the function sets."""

    def __init__(self) -> None:
        self.value: Any = None

    def set(self, val: Any) -> None:
        self.value = val

    def get(self) -> Any:
        return self.value


def queue_options() -> QueueOptions:
    """The app's host.json queue options with their app-setting overrides."""
    return host_queue_options()


def queue_service(connection: str, environ: Mapping[str, str] | None = None) -> QueueService:
    """The queue service the connection setting names (a connection string)."""
    env = os.environ if environ is None else environ
    text = env.get(connection, "")
    if not text or text.replace(" ", "").lower() == _DEV_STORAGE:
        raise QueueError(0, "NoConnection", f"app setting {connection} names no queue service")
    return QueueService.from_connection_string(text)


def _encode(text: str, options: QueueOptions) -> str:
    if options.message_encoding == "none":
        return text
    return base64.b64encode(text.encode()).decode()


def write_outputs(outputs: Sequence[QueueOutput], values: Mapping[str, Any]) -> None:
    """Put what the function set on each queue output binding (a string or a list of them)."""
    options = queue_options()
    for output in outputs:
        value = values.get(output.arg_name)
        if value is None:
            continue
        messages = value if isinstance(value, list) else [value]
        service = queue_service(output.connection)
        service.create_queue(output.queue_name)
        for message in messages:
            service.put(output.queue_name, _encode(str(message), options))
