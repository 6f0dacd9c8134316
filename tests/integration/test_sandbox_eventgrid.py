"""The sandbox's Event Grid custom topics (sandbox/eventgrid.py) through azure-eventgrid's own
publisher client and raw requests: Entra tokens only unless local auth is on, 1 MB per publish,
the CloudEvents required attributes, and a record of what each topic accepted."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import HttpResponseError
from azure.core.messaging import CloudEvent
from azure.eventgrid.aio import EventGridPublisherClient

from sandbox import Sandbox
from sandbox.wire import Request
from shared.adapters.azure.clients import AsyncTokenAdapter

TOPIC = "orders-topic.westeurope-1.eventgrid.azure.net"
ENDPOINT = f"https://{TOPIC}/api/events"


def send(sandbox: Sandbox, events: list[CloudEvent[Any]], credential: Any = None) -> None:
    async def run() -> None:
        async with EventGridPublisherClient(
            ENDPOINT,
            credential or AsyncTokenAdapter(sandbox.credential()),
            transport=sandbox.async_transport(),
            retry_total=0,
        ) as client:
            await client.send(events)

    asyncio.run(run())


def post(sandbox: Sandbox, body: Any, **headers: str) -> int:
    request = Request.from_url(
        "POST",
        f"{ENDPOINT}?api-version=2018-01-01",
        {"Authorization": "Bearer t", "Content-Type": "application/cloudevents-batch+json",
         **headers},
        json.dumps(body).encode() if not isinstance(body, bytes) else body,
    )  # fmt: skip
    return sandbox.handle(request).status


def test_the_sdk_publishes_a_batch_the_topic_records_in_order() -> None:
    sandbox = Sandbox()
    send(sandbox, [CloudEvent(source="/s", type="t.A", data={"n": n}) for n in range(3)])
    events = sandbox.topics.events(TOPIC)
    assert [e["data"]["n"] for e in events] == [0, 1, 2]
    assert sandbox.topics.events("other-topic.westeurope-1.eventgrid.azure.net") == []
    [record] = sandbox.requests_matching("/api/events", host=TOPIC)
    assert (record.plane, record.status, record.query) == (
        "eventgrid", 200, {"api-version": "2018-01-01"})  # fmt: skip


@pytest.mark.parametrize("local_auth", [False, True])
def test_a_key_is_refused_unless_the_topic_allows_local_auth(local_auth: bool) -> None:
    sandbox = Sandbox(eventgrid_local_auth=local_auth)
    event = CloudEvent(source="/s", type="t.A", data={})
    if local_auth:
        send(sandbox, [event], AzureKeyCredential("k"))
        assert len(sandbox.topics.events()) == 1
    else:
        with pytest.raises(HttpResponseError) as refused:
            send(sandbox, [event], AzureKeyCredential("k"))
        assert refused.value.status_code == 401
        assert sandbox.topics.events() == []


def test_a_publish_above_one_megabyte_is_refused_413() -> None:
    sandbox = Sandbox()
    event = {"specversion": "1.0", "id": "1", "source": "/s", "type": "t", "data": "x" * 1_048_576}
    assert post(sandbox, [event]) == 413
    small = dict(event, data="x" * 1_000)
    assert post(sandbox, [small]) == 200
    assert len(sandbox.topics.events()) == 1


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        ([{"specversion": "1.0", "source": "/s", "type": "t"}], {}),  # no id
        ([{"specversion": "0.3", "id": "1", "source": "/s", "type": "t"}], {}),
        ([], {}),
        ([{"specversion": "1.0", "id": "1", "source": "/s", "type": "t"}],
         {"Content-Type": "application/json"}),
        (b"not json", {}),
    ],
    ids=["no-id", "old-specversion", "empty", "wrong-media-type", "not-json"],
)  # fmt: skip
def test_what_is_not_a_cloudevents_batch_is_refused_400(body: Any, headers: dict[str, str]) -> None:
    sandbox = Sandbox()
    assert post(sandbox, body, **headers) == 400
    assert sandbox.topics.events() == []


def test_no_credential_is_401_and_other_paths_404() -> None:
    sandbox = Sandbox()
    bare = Request.from_url("POST", f"{ENDPOINT}?api-version=2018-01-01", {}, b"[]")
    assert sandbox.handle(bare).status == 401
    other = Request.from_url("GET", f"https://{TOPIC}/api/other?api-version=2018-01-01", {})
    assert sandbox.handle(other).status == 404
    reset = Sandbox()
    post(reset, [{"specversion": "1.0", "id": "1", "source": "/s", "type": "t"}])
    reset.reset()
    assert reset.topics.events() == []
