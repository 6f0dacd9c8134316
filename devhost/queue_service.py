"""The few Queue service operations the local host needs, on Azurite, through `azure-storage-queue`
(the SDK the Functions host's queue extension uses in its .NET form): create a queue, put, get,
update and delete messages. Message text goes as it is (no encode policy): the host's own
base64 handling is `devhost/queues.py`'s. Development host only: the app never imports this.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = ["QueueError", "QueueMessageRecord", "QueueService"]


class QueueError(RuntimeError):
    """The Queue service answered with an error."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code = status, code


@dataclass(frozen=True, slots=True)
class QueueMessageRecord:
    """One received message, its text as stored (the host decodes base64)."""

    id: str
    pop_receipt: str
    dequeue_count: int
    text: str
    insertion_time: datetime | None
    expiration_time: datetime | None
    time_next_visible: datetime | None


@contextmanager
def _answered(what: str) -> Iterator[None]:
    from azure.core.exceptions import HttpResponseError

    try:
        yield
    except HttpResponseError as exc:
        status = exc.status_code or 0
        code = str(getattr(exc, "error_code", "") or "")
        raise QueueError(status, code, f"{what}: {exc.message}"[:300]) from exc


class QueueService:
    """One storage account's Queue service."""

    def __init__(self, service: Any) -> None:
        self._service = service

    @classmethod
    def from_connection_string(cls, text: str) -> QueueService:
        from azure.storage.queue import QueueServiceClient

        return cls(QueueServiceClient.from_connection_string(text, retry_total=2))

    def _queue(self, queue: str) -> Any:
        return self._service.get_queue_client(queue)

    def create_queue(self, queue: str) -> None:
        """Create the queue; an existing one is fine."""
        from azure.core.exceptions import ResourceExistsError

        try:
            with _answered(f"create {queue}"):
                self._queue(queue).create_queue()
        except QueueError as exc:
            if not isinstance(exc.__cause__, ResourceExistsError):
                raise

    def exists(self, queue: str) -> bool:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            with _answered(f"read {queue}"):
                self._queue(queue).get_queue_properties()
        except QueueError as exc:
            if isinstance(exc.__cause__, ResourceNotFoundError):
                return False
            raise
        return True

    def put(self, queue: str, text: str) -> None:
        with _answered(f"put into {queue}"):
            self._queue(queue).send_message(text)

    def get(self, queue: str, *, count: int, visibility_seconds: int) -> list[QueueMessageRecord]:
        with _answered(f"get from {queue}"):
            pages = self._queue(queue).receive_messages(
                messages_per_page=count, visibility_timeout=visibility_seconds, max_messages=count
            )
            return [_record(m) for m in pages]

    def delete(self, queue: str, message: QueueMessageRecord) -> None:
        with _answered(f"remove a message of {queue}"):
            self._queue(queue).delete_message(message.id, message.pop_receipt)

    def release(self, queue: str, message: QueueMessageRecord, *, visibility_seconds: int) -> None:
        """Make the message visible again after `visibility_seconds` (Update Message)."""
        with _answered(f"release in {queue}"):
            self._queue(queue).update_message(
                message.id, message.pop_receipt, visibility_timeout=visibility_seconds
            )

    def peek_count(self, queue: str) -> int:
        """How many messages the queue holds (the queue properties' approximate count)."""
        with _answered(f"count {queue}"):
            return int(self._queue(queue).get_queue_properties().approximate_message_count or 0)


def _record(message: Any) -> QueueMessageRecord:
    return QueueMessageRecord(
        id=message.id, pop_receipt=message.pop_receipt, dequeue_count=message.dequeue_count or 0,
        text=str(message.content), insertion_time=message.inserted_on,
        expiration_time=message.expires_on, time_next_visible=message.next_visible_on,
    )  # fmt: skip
