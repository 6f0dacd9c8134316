"""Provisional verification end to end: the app under the local host (embedded sandbox with the
example settings' health lag and RBAC delay, Azurite journal) repairs a pull failure in fix mode;
the repair is pending verification until ACR's health confirms it, re-checked by the
verification timer on the sandbox clock."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.host_process import HostProcess, demo_host
from tests.e2e.test_reactions_e2e import alert, post

REPAIRS = {"grant-secret-read", "refresh-credential-set"}


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostProcess]:
    with demo_host(tmp_path_factory.mktemp("verification"), REMEDIATION_MODE="fix") as process:
        yield process


def run_timer(host: HostProcess) -> None:
    reply = host.request("POST", "/admin/functions/verification_timer", body=b"{}",
                         headers={"Content-Type": "application/json"})  # fmt: skip
    assert reply.status == 202, host.output()[-2000:]


def repairs(host: HostProcess) -> list[dict[str, Any]]:
    reply = host.request("GET", "/api/journal?limit=1000")
    assert reply.status == 200, reply.body
    return [o for o in reply.json()["outcomes"] if o["action"] in REPAIRS]


def advance(host: HostProcess, seconds: float) -> None:
    assert post(host, "/_sandbox/clock", {"advanceSeconds": seconds}).status == 200


def test_a_repair_is_pending_then_verified_by_the_timer(host: HostProcess) -> None:
    state = host.request("GET", "/_sandbox/state").json()
    assert state["timing"] == {"healthRefreshSeconds": 60.0, "rbacDelaySeconds": 120.0}
    advance(host, 0)  # stop the sandbox clock: from here it moves only when the test says so

    reply = post(host, "/api/alerts/pull-failures", alert("quay/prometheus/prometheus"))
    assert reply.status == 202, reply.body
    first = repairs(host)
    assert sorted(o["status"] for o in first) == ["pending-verification"] * 3
    status = host.request("GET", "/api/registries/contosocache/status").json()
    quay = next(c for c in status["credentialSets"] if c["name"] == "quay-io")
    assert quay["health"]["status"] == "Unhealthy" and quay["pendingVerification"] == 3

    advance(host, 30)
    run_timer(host)  # RBAC has not applied the grants yet: still pending
    assert all(o["status"] == "pending-verification" for o in repairs(host))

    advance(host, 180)  # past the RBAC delay and ACR's next evaluation
    run_timer(host)
    final = repairs(host)
    verified = [o for o in final if o["status"] == "succeeded"]
    assert len(verified) == 3 and all("verified" in o["reason"] for o in verified)
    status = host.request("GET", "/api/registries/contosocache/status").json()
    assert status["pendingVerifications"] == []
    for outcome in final:  # never succeeded while the read-back said otherwise
        assert outcome["status"] != "succeeded" or outcome["health"] in (None, "Healthy")
    assert json.dumps(final).count("pending-verification") == 3
