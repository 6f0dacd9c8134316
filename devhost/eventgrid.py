"""The Event Grid webhook (`/runtime/webhooks/EventGrid?functionName=...`) and manual admin runs.

Deliveries are decoded exactly as the Python worker decodes them
(`EventGridEventInConverter.decode`), Event Grid schema and CloudEvents 1.0 alike, and the function
is called once per event, as the Functions host does.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from azure.functions.eventgrid import EventGridEventInConverter
from azure.functions.meta import Datum
from azure.functions.timer import TimerRequest

from devhost.app_index import FunctionSpec, run_logged
from devhost.replies import Reply, json_reply, problem

__all__ = ["abuse_protection", "decode_event", "handle_admin_invoke", "handle_webhook"]

log = logging.getLogger("devhost")


def decode_event(event: dict[str, Any]) -> Any:
    """The trigger value the worker would pass for one event (EventGridEvent or CloudEvent)."""
    return EventGridEventInConverter.decode(Datum(json.dumps(event), "json"), trigger_metadata={})


def abuse_protection(headers: Mapping[str, str]) -> Reply:
    """Answer the CloudEvents webhook validation handshake (an OPTIONS request)."""
    origin = headers.get("webhook-request-origin")
    if not origin:
        return problem(400, "Bad Request", "WebHook-Request-Origin header is required")
    return Reply(200, [("WebHook-Allowed-Origin", origin), ("WebHook-Allowed-Rate", "*")])


def handle_webhook(
    functions: Mapping[str, FunctionSpec],
    query: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes,
) -> Reply:
    """Deliver an Event Grid POST; `headers` keys are lower-case, `functions` keys too."""
    name = query.get("functionName", "")
    spec = functions.get(name.lower())
    if spec is None or spec.kind != "eventGrid":
        return problem(404, "Not Found", f"no Event Grid function named {name!r}")
    events = _events(body)
    if isinstance(events, Reply):
        return events
    event_type = headers.get("aeg-event-type", "").lower()
    if event_type == "subscriptionvalidation":
        return _validation(events)
    if event_type == "unsubscribe":
        # The Event Grid extension acknowledges this and does nothing else.
        return Reply(202)
    if event_type != "notification":
        return problem(
            400, "Bad Request", "aeg-event-type must be Notification or SubscriptionValidation"
        )
    return _deliver(spec, events)


def _deliver(spec: FunctionSpec, events: list[dict[str, Any]]) -> Reply:
    # One invocation per event, in order; the first failure stops the batch so that Event Grid
    # redelivers it, as the host does.
    for event in events:
        try:
            value = decode_event(event)
        except Exception as exc:  # the library raises several types for malformed fields
            return problem(
                400, "Bad Request", f"event {event.get('id')!r} cannot be decoded: {exc}"
            )
        if not run_logged(spec, value, f"EventGrid event {event.get('id')!r}"):
            return _failed(spec)
    return Reply(202)


def _failed(spec: FunctionSpec) -> Reply:
    return problem(500, "Internal Server Error", f"function {spec.name} failed; see the host log")


def handle_admin_invoke(spec: FunctionSpec, body: bytes) -> Reply:
    """Run a non-HTTP function by hand, like Core Tools' `POST /admin/functions/<name>`."""
    if spec.kind == "http":
        return problem(400, "Bad Request", f"{spec.name} is an HTTP function; call its route")
    value = _admin_value(spec, body)
    if isinstance(value, Reply):
        return value
    if not run_logged(spec, value, "manual invocation"):
        return _failed(spec)
    return Reply(202)


def _admin_value(spec: FunctionSpec, body: bytes) -> Any:
    """The trigger value for a manual run, or a 400 Reply."""
    try:
        document = json.loads(body) if body.strip() else {}
    except (ValueError, RecursionError):  # malformed, not UTF-8, a huge integer, nested too deep
        document = None
    text = document.get("input", "") if isinstance(document, dict) else None
    if not isinstance(text, str):
        return problem(400, "Bad Request", 'the body must be JSON like {"input": "..."}')
    if spec.kind == "timer":
        return TimerRequest(past_due=False)
    if spec.kind != "eventGrid":
        return text  # other triggers get the raw input, as Core Tools passes it on
    try:
        event = json.loads(text)
        if not isinstance(event, dict):
            raise TypeError("not an object")  # one error path for both cases
        return decode_event(event)
    except Exception:  # malformed JSON, or fields the library cannot decode
        return problem(400, "Bad Request", "input must be one event as a JSON object string")


def _events(body: bytes) -> list[dict[str, Any]] | Reply:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):  # malformed, not UTF-8, a huge integer, nested too deep
        return problem(400, "Bad Request", "the body must be a JSON event or array of events")
    events = document if isinstance(document, list) else [document]
    if not all(isinstance(event, dict) for event in events):
        return problem(400, "Bad Request", "every event must be a JSON object")
    return events


def _validation(events: list[dict[str, Any]]) -> Reply:
    data = events[0].get("data") if events else None
    code = data.get("validationCode") if isinstance(data, dict) else None
    if not isinstance(code, str):
        return problem(
            400, "Bad Request", "a SubscriptionValidation event needs data.validationCode"
        )
    log.info("Event Grid subscription validation answered")
    return json_reply(200, {"validationResponse": code})
