"""Event Grid custom topics: the publish endpoint, and a record of every event a topic accepted.

`POST https://<topic>.<region>-1.eventgrid.azure.net/api/events?api-version=2018-01-01` with a
CloudEvents 1.0 JSON batch (`application/cloudevents-batch+json`) or one structured CloudEvent
(`application/cloudevents+json`). Rules enforced, each with its source in docs/fidelity.md
(the Event Grid publishing rows): an Entra bearer token (the topic's local auth is disabled, so an
`aeg-sas-key` is refused 401, unless the option `eventgrid_local_auth` is on); a body of at most
1 MB (413); every event carries `specversion` 1.0, `id`, `source` and `type` (400). Any host of
that shape is a topic: the sandbox has no topic provisioning (the Bicep creates the real one).
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any

from sandbox.errors import ServiceError
from sandbox.wire import Request, Response

__all__ = ["MAX_BODY_BYTES", "TOPIC_HOST", "TopicLog", "handle_eventgrid"]

TOPIC_HOST = re.compile(r"^[a-z0-9][a-z0-9-]{1,48}[a-z0-9]\.[a-z0-9]+-1\.eventgrid\.azure\.net$")
MAX_BODY_BYTES = 1_048_576
_REQUIRED = ("id", "source", "type")


class TopicLog:
    """Every event each topic accepted, in arrival order (duplicates kept: Event Grid does not
    de-duplicate by id; subscribers may)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: list[tuple[str, dict[str, Any]]] = []
        self.batches = 0

    def accept(self, topic: str, events: list[dict[str, Any]]) -> None:
        with self._lock:
            self._events.extend((topic, event) for event in events)
            self.batches += 1

    def events(self, topic: str | None = None) -> list[dict[str, Any]]:
        """The accepted events (of one topic host, or all), oldest first."""
        with self._lock:
            return [dict(e) for t, e in self._events if topic is None or t == topic.lower()]

    def clear(self) -> None:
        with self._lock:
            self._events.clear()
            self.batches = 0


def _authorize(request: Request, *, local_auth: bool) -> None:
    bearer = request.headers.get("authorization", "").startswith("Bearer ")
    key = "aeg-sas-key" in request.headers or "aeg-sas-token" in request.headers
    if bearer:
        return
    if key and local_auth:
        return
    if key:
        raise ServiceError(401, "Unauthorized", "Local authentication is disabled for this topic.")
    raise ServiceError(401, "Unauthorized", "The request has no Authorization header.")


def _events_of(request: Request) -> list[dict[str, Any]]:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        body = json.loads(request.body or b"null")
    except ValueError:
        raise ServiceError(400, "BadRequest", "The request body is not JSON.") from None
    if media == "application/cloudevents-batch+json" and isinstance(body, list):
        events = body
    elif media == "application/cloudevents+json" and isinstance(body, dict):
        events = [body]
    else:
        raise ServiceError(
            400, "BadRequest", f"Unsupported content for a CloudEvents topic: {media!r}."
        )
    if not events:
        raise ServiceError(400, "BadRequest", "The batch holds no event.")
    for event in events:
        if not isinstance(event, dict) or event.get("specversion") != "1.0":
            raise ServiceError(400, "BadRequest", "Every event needs specversion 1.0.")
        missing = [name for name in _REQUIRED if not isinstance(event.get(name), str)
                   or not event.get(name)]  # fmt: skip
        if missing:
            raise ServiceError(400, "BadRequest", f"Required attribute(s) missing: {missing}.")
    return events


def handle_eventgrid(log: TopicLog, request: Request, *, local_auth: bool) -> Response:
    """Answer one request to a topic host."""
    if request.path.lower() != "/api/events":
        raise ServiceError(404, "NotFound", f"No such path on a topic: {request.path}.")
    if request.method != "POST":
        raise ServiceError(405, "MethodNotAllowed", "Topics accept POST only.")
    if not request.query.get("api-version"):
        raise ServiceError(400, "BadRequest", "The api-version query parameter is required.")
    _authorize(request, local_auth=local_auth)
    if len(request.body) > MAX_BODY_BYTES:
        raise ServiceError(413, "RequestEntityTooLarge", "The batch is larger than 1 MB.")
    log.accept(request.host, _events_of(request))
    return Response(200)
