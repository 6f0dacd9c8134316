"""The control surface: Python methods, `handle_http` on the singleton, and the HTTP server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from azure.core.messaging import CloudEvent
from azure.eventgrid import EventGridEvent
from azure.keyvault.secrets import SecretClient
from azure.mgmt.containerregistry import ContainerRegistryManagementClient

from sandbox import ForwardingTransport, Sandbox
from sandbox.embedded import get_sandbox, handle_http, set_sandbox
from sandbox.server import serve
from tests.integration.conftest import DEMO, RG_CACHE, SUBSCRIPTION


@pytest.fixture
def embedded(sandbox: Sandbox) -> Iterator[Sandbox]:
    set_sandbox(sandbox)
    yield sandbox
    set_sandbox(None)


def call(
    method: str, path: str, body: Any = None, query: dict[str, str] | None = None
) -> tuple[int, Any]:
    raw = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    status, _, payload = handle_http(method, path, query or {}, {}, raw)
    return status, json.loads(payload) if payload else None


def test_new_secret_version_returns_both_event_schemas(embedded: Sandbox) -> None:
    embedded.clock.set("2026-05-01T10:00:00Z")
    status, body = call(
        "POST",
        "/_sandbox/vaults/kv-cache-rbac/secrets/dockerhub-password",
        {"exp": "2026-12-31T00:00:00Z"},
    )
    assert status == 201
    vault = embedded.vault("kv-cache-rbac")

    eg = EventGridEvent.from_dict(body["eventGrid"])
    assert eg.event_type == "Microsoft.KeyVault.SecretNewVersionCreated"
    assert eg.topic == vault.id and eg.subject == "dockerhub-password"
    assert (
        eg.data["Version"]
        == body["version"]
        == embedded.secret_version(vault.name, "dockerhub-password").version
    )
    assert eg.data["EXP"] == 1798675200 and eg.data["NBF"] is None
    assert (
        eg.data["Id"]
        == f"https://kv-cache-rbac.vault.azure.net/secrets/dockerhub-password/{body['version']}"
    )

    ce = CloudEvent.from_dict(body["cloudEvent"])
    assert ce.source == vault.id and ce.type == eg.event_type and ce.id == eg.id
    assert ce.data == eg.data
    assert set(body["eventGrid"]["data"]) == {
        "Id",
        "VaultName",
        "ObjectType",
        "ObjectName",
        "Version",
        "NBF",
        "EXP",
    }


def test_state_summary_has_no_secret_values(embedded: Sandbox) -> None:
    status, state = call("GET", "/_sandbox/state")
    assert status == 200
    text = json.dumps(state)
    for vault in embedded.state.vaults.values():
        for secret in vault.secrets.values():
            assert all(v.value not in text for v in secret.versions)
    unhealthy = [
        (r["name"], c["name"])
        for r in state["registries"]
        for c in r["credentialSets"]
        if c["health"]["status"] != "Healthy"
    ]
    assert unhealthy == [("contosocache", "quay-io")]
    assert len(state["policies"]) == 4


@pytest.mark.instant_azure  # the control operations, not the timing (test_sandbox_timing.py)
def test_control_role_assignments_and_versions(embedded: Sandbox) -> None:
    principal = embedded.principal_of("contosocache", "quay-io")
    status, created = call(
        "POST",
        "/_sandbox/roleAssignments",
        {
            "principalId": principal,
            "role": "Key Vault Secrets User",
            "scope": {"vault": "kv-cache-rbac"},
        },
    )
    assert status == 201
    assert embedded.health("contosocache", "quay-io").status == "Healthy"

    version = embedded.secret_version("kv-cache-rbac", "quay-password").version
    assert (
        call(
            "POST",
            f"/_sandbox/vaults/kv-cache-rbac/secrets/quay-password/versions/{version}/disable",
        )[0]
        == 200
    )
    assert embedded.health("contosocache", "quay-io").error_code == "SecretDisabled"
    status, _ = call(
        "PATCH",
        f"/_sandbox/vaults/kv-cache-rbac/secrets/quay-password/versions/{version}",
        {"enabled": True, "exp": "-1d"},
    )
    assert status == 200
    # Key Vault serves expired versions (docs/fidelity.md, Key Vault): enabled again is Healthy
    assert embedded.health("contosocache", "quay-io").status == "Healthy"
    assert embedded.secret_version("kv-cache-rbac", "quay-password").expires is not None

    assert call("DELETE", f"/_sandbox/roleAssignments/{created['guid']}") == (200, {"removed": 1})
    assert embedded.health("contosocache", "quay-io").error_code == "AccessDenied"


def test_clock_faults_requests_and_reset(embedded: Sandbox) -> None:
    assert call("POST", "/_sandbox/clock", {"now": "2030-01-01T00:00:00Z"})[1]["pinned"] is True
    assert embedded.clock.now().year == 2030
    status, faults = call(
        "POST", "/_sandbox/faults", {"kind": "429", "pattern": "/registries/", "count": 2}
    )
    assert status == 200 and faults["faults"][0]["remaining"] == 2
    assert call("POST", "/_sandbox/faults", {"kind": "bogus"})[0] == 400
    call("GET", "/_sandbox/state")  # control traffic is neither faulted nor logged
    assert call("GET", "/_sandbox/requests")[1]["count"] == 0

    assert call("POST", "/_sandbox/reset")[0] == 200
    assert not embedded.clock.pinned and embedded.faults.rules() == []
    assert call("GET", "/_sandbox/nope")[0] == 404


def test_reset_says_what_it_resets_and_keeps(embedded: Sandbox) -> None:
    embedded.clock.set("2030-01-01T00:00:00Z")
    embedded.add_secret_version("kv-cache-rbac", "quay-password")
    before = len(embedded.vault("kv-cache-rbac").secrets["quay-password"].versions)
    # the sandbox alone holds no product store: refused, nothing reset
    status, refused = call("POST", "/_sandbox/reset", query={"stores": "true"})
    assert status == 400 and "local host" in refused["error"]
    assert embedded.clock.pinned
    assert len(embedded.vault("kv-cache-rbac").secrets["quay-password"].versions) == before
    status, answer = call("POST", "/_sandbox/reset")
    assert status == 200 and answer["registries"]  # the state summary, as before
    assert [item.split(":")[0] for item in answer["reset"]] == [
        "state",
        "request log",
        "faults",
        "clock",
    ]
    assert any("journal and policy table" in item for item in answer["kept"])
    assert not embedded.clock.pinned
    assert len(embedded.vault("kv-cache-rbac").secrets["quay-password"].versions) == before - 1


def test_load_scenario_over_http(embedded: Sandbox) -> None:
    status, state = call(
        "POST", "/_sandbox/scenario", b"subscription: 00000000-0000-0000-0000-000000000009\n"
    )
    assert status == 200 and state["registries"] == []
    assert call("POST", "/_sandbox/scenario", b"- not a mapping")[0] == 400
    assert call("POST", "/_sandbox/scenario", DEMO.read_bytes())[1]["registries"]


def test_singleton_loads_the_scenario_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANDBOX_SCENARIO", str(DEMO))
    set_sandbox(None)
    try:
        assert {r.name for r in get_sandbox().state.registries.values()} == {
            "contosocache",
            "fabrikamcache",
        }
        assert get_sandbox() is get_sandbox()
    finally:
        set_sandbox(None)


def test_standalone_server_with_forwarding_transport(sandbox: Sandbox) -> None:
    server = serve(sandbox, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        acr = ContainerRegistryManagementClient(
            sandbox.credential(), SUBSCRIPTION, transport=ForwardingTransport(base)
        )
        assert len(list(acr.cache_rules.list(RG_CACHE, "contosocache"))) == 4
        secrets = SecretClient(
            "https://kv-cache-rbac.vault.azure.net",
            sandbox.credential(),
            transport=ForwardingTransport(base),
        )
        assert len(list(secrets.list_properties_of_secret_versions("dockerhub-password"))) == 2
        sandbox.faults.script("/registries/contosocache$", "429", count=1)
        assert acr.registries.get(RG_CACHE, "contosocache").name == "contosocache"
        assert [r.status for r in sandbox.requests_matching("/registries/contosocache$")] == [
            429,
            200,
        ]
        acr.close()
        secrets.close()
    finally:
        server.shutdown()
        server.server_close()
