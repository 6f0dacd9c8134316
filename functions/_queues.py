"""Queue triggers declared once: `@queue_consumer` registers the Functions queue trigger on the
host storage connection (`AzureWebJobsStorage`) and runs each message in the invocation's log
scope, like `@scheduled` for timers.

    @queue_consumer(bp, "audit_registry", queue=AUDIT_QUEUE)
    def audit_registry(message: func.QueueMessage) -> None: ...

A handler that raises fails the invocation: the host makes the message visible again after
`visibilityTimeout` and, once it was dequeued `maxDequeueCount` times (host.json), moves it to
`<queue>-poison`. A handler that returns acknowledges it (the host deletes it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import azure.functions as func

from shared.log_context import function_invocation

__all__ = ["HOST_STORAGE", "queue_consumer"]

# The app setting prefix of the queues' storage account: the host's own (identity-based in Azure,
# AzureWebJobsStorage__queueServiceUri; UseDevelopmentStorage=true locally).
HOST_STORAGE = "AzureWebJobsStorage"

Consumer = TypeVar("Consumer", bound=Callable[[func.QueueMessage], None])


def queue_consumer(bp: func.Blueprint, name: str, *, queue: str) -> Callable[[Consumer], Consumer]:
    """Register the handler as queue-triggered function `name` on `queue`."""

    def register(handler: Consumer) -> Consumer:
        def trigger(message: func.QueueMessage, context: func.Context) -> None:
            with function_invocation(context):
                handler(message)

        trigger.__name__ = trigger.__qualname__ = name
        trigger.__module__, trigger.__doc__ = handler.__module__, handler.__doc__
        registered = bp.queue_trigger(
            arg_name="message", queue_name=queue, connection=HOST_STORAGE
        )(trigger)
        bp.function_name(name)(registered)
        return handler

    return register
