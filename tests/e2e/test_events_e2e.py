"""cachekeeper's own events end to end: the app under the local host (embedded sandbox, Azurite
journal) with EVENTS_TOPIC_ENDPOINT set publishes to the sandbox's topic over the real SDK; a
publish that fails leaves the reaction's result alone, and the outbox timer, run as the host runs
it, publishes each applied action exactly once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.host_process import HostProcess, demo_host
from tests.e2e.test_reactions_e2e import alert, post

TOPIC = "cachekeeper-events.westeurope-1.eventgrid.azure.net"
REPAIRS = {"grant-secret-read", "refresh-credential-set"}


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostProcess]:
    with demo_host(
        tmp_path_factory.mktemp("events"),
        REMEDIATION_MODE="fix",
        EVENTS_TOPIC_ENDPOINT=f"https://{TOPIC}/api/events",
    ) as process:
        yield process


def published(host: HostProcess) -> list[dict[str, Any]]:
    reply = host.request("GET", f"/_sandbox/topics/events?topic={TOPIC}")
    assert reply.status == 200, reply.body
    events: list[dict[str, Any]] = reply.json()["events"]
    return events


def applied(host: HostProcess) -> list[tuple[str, str]]:
    reply = host.request("GET", "/api/journal?limit=1000")
    assert reply.status == 200, reply.body
    return sorted((o["action"], o["resource"].lower()) for o in reply.json()["outcomes"]
                  if o["action"] in REPAIRS)  # fmt: skip


def run_outbox_timer(host: HostProcess) -> None:
    reply = host.request("POST", "/admin/functions/event_outbox_timer", body=b"{}",
                         headers={"Content-Type": "application/json"})  # fmt: skip
    assert reply.status == 202, host.output()[-2000:]


def test_a_failed_publish_is_published_once_by_the_outbox_timer(host: HostProcess) -> None:
    fault = {"kind": "503", "pattern": "/api/events", "count": 20, "host": TOPIC}
    assert post(host, "/_sandbox/faults", fault).status in (200, 201)
    reply = post(host, "/api/alerts/pull-failures", alert("quay/prometheus/prometheus"))
    assert reply.status == 202, reply.body  # the reaction's answer, whatever the publish did
    assert len(applied(host)) == 3
    assert published(host) == []
    assert host.request("DELETE", "/_sandbox/faults").status in (200, 204)

    run_outbox_timer(host)
    events = [e for e in published(host) if e["type"] == "cachekeeper.ActionApplied"]
    assert sorted((e["data"]["action"], e["subject"].lower()) for e in events) == applied(host)
    assert len({e["id"] for e in events}) == 3
    everything = published(host)
    run_outbox_timer(host)
    assert published(host) == everything  # nothing twice
