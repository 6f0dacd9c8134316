"""Queue triggers and queue output bindings, run the way the Functions host's Storage Queues
extension runs them (the rules and their sources: `shared/hosting/queues.py`, docs/fidelity.md).

One listener thread per queue-triggered function polls its queue: it fetches up to `batchSize`
messages, invisible for 10 minutes while they run (longer than `functionTimeout`, so the host's
renewal never matters here), runs them in parallel, and fetches the next batch as soon as no more
than `newBatchThreshold` are still running; a poll that finds nothing waits with the randomized
exponential back-off up to `maxPollingInterval`. A message whose invocation succeeded is deleted;
one that failed is made visible again after `visibilityTimeout`, or, once dequeued
`maxDequeueCount` times, copied to `<queue>-poison` and deleted (also before invoking, when a
message was dequeued more often than that already). Bodies are base64 (`messageEncoding`).
"""

from __future__ import annotations

import base64
import binascii
import logging
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import timedelta

from azure.functions.queue import QueueMessage

from devhost.app_index import FunctionSpec, run_logged
from devhost.queue_outputs import queue_options, queue_service
from devhost.queue_service import QueueError, QueueMessageRecord
from shared.hosting.queues import Backoff, QueueOptions

__all__ = ["QueueListeners", "poison_queue_name"]

log = logging.getLogger("devhost")
_LEASE = timedelta(minutes=10)  # QueueListener's _visibilityTimeout for messages in flight


def poison_queue_name(queue: str) -> str:
    return f"{queue}-poison"


class _Listener:
    def __init__(self, spec: FunctionSpec, options: QueueOptions, stopping: threading.Event):
        self.spec, self.options, self._stopping = spec, options, stopping
        self.queue = str(spec.queue_name)
        self._service = queue_service(str(spec.connection))
        self._backoff = Backoff(options.max_polling_interval)
        self._pool = ThreadPoolExecutor(
            max_workers=options.batch_size + options.new_batch_threshold,
            thread_name_prefix=f"queue-{spec.name}",
        )
        self._running: set[Future[None]] = set()

    def run(self) -> None:
        found_since_delay = False
        while not self._stopping.is_set():
            try:
                batch = self._poll()
            except (QueueError, OSError) as exc:
                log.warning("queue %s: polling failed (%s); backing off", self.queue, exc)
                batch = []
            if batch:
                found_since_delay = True
                for message in batch:
                    self._running.add(self._pool.submit(self._process, message))
                self._wait_for_new_batch_threshold()
                continue
            delay = self._backoff.next_delay(found_messages=found_since_delay)
            found_since_delay = False
            self._stopping.wait(delay.total_seconds())
        wait(self._running)
        self._pool.shutdown(wait=True)

    def _poll(self) -> list[QueueMessageRecord]:
        if not self._service.exists(self.queue):
            return []
        return self._service.get(
            self.queue,
            count=self.options.batch_size,
            visibility_seconds=int(_LEASE.total_seconds()),
        )

    def _wait_for_new_batch_threshold(self) -> None:
        while len(self._running) > self.options.new_batch_threshold:
            done, _ = wait(self._running, return_when="FIRST_COMPLETED")
            self._running -= done
        self._running = {f for f in self._running if not f.done()}

    def _process(self, message: QueueMessageRecord) -> None:
        try:
            if message.dequeue_count > self.options.max_dequeue_count:
                self._poison(message)
                return
            succeeded = run_logged(self.spec, self._trigger_value(message), self._reason(message))
            if succeeded:
                self._service.delete(self.queue, message)
            elif message.dequeue_count >= self.options.max_dequeue_count:
                self._poison(message)
            else:
                seconds = int(self.options.visibility_timeout.total_seconds())
                self._service.release(self.queue, message, visibility_seconds=seconds)
        except (QueueError, OSError) as exc:
            log.warning("queue %s: completing message %s failed (%s)", self.queue, message.id, exc)

    def _poison(self, message: QueueMessageRecord) -> None:
        poison = poison_queue_name(self.queue)
        log.warning(
            "Message has reached MaxDequeueCount of %d. Moving message to queue '%s'.",
            self.options.max_dequeue_count,
            poison,
        )
        self._service.create_queue(poison)
        self._service.put(poison, message.text)
        self._service.delete(self.queue, message)

    def _trigger_value(self, message: QueueMessageRecord) -> QueueMessage:
        body: bytes = message.text.encode()
        if self.options.message_encoding == "base64":
            try:
                body = base64.b64decode(message.text, validate=True)
            except (binascii.Error, ValueError):
                body = message.text.encode()  # the extension falls back to the text as it is
        return QueueMessage(
            id=message.id, body=body, dequeue_count=message.dequeue_count,
            expiration_time=message.expiration_time, insertion_time=message.insertion_time,
            time_next_visible=message.time_next_visible, pop_receipt=message.pop_receipt,
        )  # fmt: skip

    def _reason(self, message: QueueMessageRecord) -> str:
        return (
            f"New queue message detected on '{self.queue}' (dequeue count {message.dequeue_count})"
        )


class QueueListeners:
    """The running queue listeners, one thread per queue-triggered function; `stop()` ends them."""

    def __init__(self, specs: Sequence[FunctionSpec]) -> None:
        self._specs = [s for s in specs if s.kind == "queue"]
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        options = queue_options()
        for spec in self._specs:
            try:
                listener = _Listener(spec, options, self._stopping)
            except QueueError as exc:
                log.warning("queue trigger %s does not run: %s", spec.name, exc)
                continue
            thread = threading.Thread(target=listener.run, name=f"queue-{spec.name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout)
