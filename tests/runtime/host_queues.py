"""Queue triggers and queue output bindings as the Functions host exchanges them with the worker.

A queue message goes to the worker as `TypedData.string` (the body the Storage Queues extension
decoded from base64), with the message's own trigger metadata as JSON values: `Id`, `DequeueCount`,
`InsertionTime`, `ExpirationTime`, `NextVisibleTime`, `PopReceipt` (what the worker's
`QueueMessageInConverter` reads). What a function sets on a queue output binding comes back in
`InvocationResponse.output_data` under the binding's name: a string, or for a list the JSON array
of its messages (`QueueMessageOutConverter.encode`), which the host writes one message per item.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.runtime import _rpc as protos
from tests.runtime.host import FunctionsHost

__all__ = ["deliver", "output_messages"]


def deliver(host: FunctionsHost, name: str, body: str, *, dequeue_count: int = 1) -> Any:
    """One queue message to queue-triggered function `name`; the InvocationResponse."""
    now = datetime.now(UTC)
    fields: dict[str, Any] = {
        "Id": str(uuid.uuid4()),
        "DequeueCount": dequeue_count,
        "InsertionTime": now.isoformat(),
        "ExpirationTime": (now + timedelta(days=7)).isoformat(),
        "NextVisibleTime": (now + timedelta(minutes=10)).isoformat(),
        "PopReceipt": uuid.uuid4().hex,
    }
    metadata = {k: protos.TypedData(json=json.dumps(v)) for k, v in fields.items()}
    return host.invoke(name, protos.TypedData(string=body), metadata)


def output_messages(response: Any, binding: str) -> list[str]:
    """The messages an invocation set on queue output binding `binding` (none when unset)."""
    for output in response.output_data:
        if output.name != binding:
            continue
        kind = output.data.WhichOneof("data")
        if kind == "string":
            return [output.data.string]
        if kind == "json":
            loaded = json.loads(output.data.json)
            return [str(m) for m in loaded] if isinstance(loaded, list) else [str(loaded)]
    return []
