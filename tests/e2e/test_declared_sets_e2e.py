"""Declared credential sets end to end: the app under the local host (embedded sandbox with the
example settings' health lag and RBAC delay, Azurite tables) in fix mode. Declare a credential
set, plan (create + grants), apply; once RBAC applies the set is Healthy and a rule naming it
serves a pull; re-create the set out of band and the next audit finds the new identity without
access, grants it, and reports the old identity's grants as stale."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.host_process import HostProcess, demo_host
from tests.e2e.test_reactions_e2e import post

KV = "https://kv-cache-rbac.vault.azure.net/secrets"
PULLER = "6c9f2d3b-8e4a-4f0b-a7d2-3a1b0e9f8d7c"
SCOPE = {"registry": "contosocache", "credentialSet": "quay-mirror"}


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostProcess]:
    with demo_host(
        tmp_path_factory.mktemp("declared"), REMEDIATION_MODE="fix", AUTO_RECONCILE="true"
    ) as process:
        yield process


def put(host: HostProcess, path: str, body: Any) -> Any:
    reply = host.request("PUT", path, body=json.dumps(body).encode(),
                         headers={"Content-Type": "application/json"})  # fmt: skip
    assert reply.status == 200, reply.body
    return reply.json()


def settle(host: HostProcess) -> None:
    """Past the RBAC delay and ACR's next evaluation, then the verification timer."""
    assert post(host, "/_sandbox/clock", {"advanceSeconds": 300}).status == 200
    reply = host.request("POST", "/admin/functions/verification_timer", body=b"{}",
                         headers={"Content-Type": "application/json"})  # fmt: skip
    assert reply.status == 202, host.output()[-2000:]


def mirror(host: HostProcess) -> dict[str, Any]:
    status = host.request("GET", "/api/registries/contosocache/status").json()
    found: dict[str, Any] = next(c for c in status["credentialSets"] if c["name"] == "quay-mirror")
    return found


def test_declare_plan_apply_pull_then_repair_a_re_created_set(host: HostProcess) -> None:
    assert post(host, "/_sandbox/clock", {"advanceSeconds": 0}).status == 200  # stop the clock
    put(host, "/api/credential-sets/declared/quay-mirror", {
        "loginServer": "quay.io", "username": f"{KV}/quay-username",
        "password": f"{KV}/quay-password", "registries": ["contosocache"]})  # fmt: skip
    put(host, "/api/policies/quay-prometheus", {
        "upstream": "quay.io/prometheus/prometheus", "action": "allow", "registry": "contosocache",
        "targetTemplate": "quay/prometheus/prometheus", "credentialSet": "quay-mirror"})  # fmt: skip

    planned = post(host, "/api/plan", SCOPE).json()
    assert [a["kind"] for a in planned["actions"]] == ["create-credential-set", "move-cache-rule"]
    assert len(planned["actions"][0]["changes"]["grants"]) == 2
    applied = post(host, "/api/apply", SCOPE | {"planId": planned["planId"]})
    assert applied.status == 200, applied.body
    assert [(o["action"], o["status"]) for o in applied.json()["outcomes"]] == [
        ("create-credential-set", "succeeded"),
        ("grant-secret-read", "pending-verification"),
        ("grant-secret-read", "pending-verification"),
        ("move-cache-rule", "succeeded"),
    ]
    assert mirror(host)["health"]["status"] == "Unhealthy"  # RBAC has not applied the grants

    settle(host)
    assert mirror(host)["health"]["status"] == "Healthy"
    assert mirror(host)["usedBy"] == ["quay-prometheus"]
    assert post(host, "/_sandbox/roleAssignments", {
        "principalId": PULLER, "role": "AcrPull", "scope": mirror(host)["id"].split("/credentialSets/")[0],
    }).status == 201  # fmt: skip
    assert post(host, "/_sandbox/clock", {"advanceSeconds": 300}).status == 200
    pulled = post(host, "/_sandbox/registries/contosocache/pull",
                  {"repository": "quay/prometheus/prometheus", "principalId": PULLER})  # fmt: skip
    assert pulled.json()["status"] == 200

    old = mirror(host)["principalId"]
    recreated = post(
        host, "/_sandbox/registries/contosocache/credentialSets/quay-mirror/recreate", {}
    )
    new = recreated.json()["principalId"]
    assert new != old
    assert post(host, "/_sandbox/clock", {"advanceSeconds": 300}).status == 200
    assert mirror(host)["health"]["status"] == "Unhealthy"  # the new identity has no grant

    audit = post(host, "/api/audit", {"registry": "contosocache"}).json()
    stale = [f for f in audit["findings"] if f["kind"] == "stale-grant"]
    assert len(stale) == 2 and {f["evidence"]["principalId"] for f in stale} == {old}
    denied = [f for f in audit["findings"] if f["kind"] == "access-denied" and new in f["message"]]
    assert len(denied) == 2
    grants = [o for o in audit["outcomes"] if o["action"] == "grant-secret-read"]
    assert [o["status"] for o in grants if "quay-mirror" in json.dumps(o)] == [
        "pending-verification"
    ] * 2
    settle(host)
    assert mirror(host)["health"]["status"] == "Healthy" and mirror(host)["principalId"] == new
