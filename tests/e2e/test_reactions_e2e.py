"""The reactions end to end: the function app under the local host, driven over HTTP exactly as
Event Grid, Azure Monitor and operators call it, against the embedded sandbox and Azurite."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.host_process import REPO_ROOT, HostProcess, Response, demo_host

EXAMPLE_SETTINGS = REPO_ROOT / "local.settings.example.json"
SUB = "00000000-0000-0000-0000-000000000001"
CONTOSO = f"/subscriptions/{SUB}/resourceGroups/rg-cache/providers/Microsoft.ContainerRegistry/registries/contosocache"
JSON = {"Content-Type": "application/json"}
NOTIFICATION = {"Content-Type": "application/json", "aeg-event-type": "Notification"}


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostProcess]:
    with demo_host(tmp_path_factory.mktemp("reactions")) as process:
        yield process


def post(host: HostProcess, path: str, body: Any, headers: dict[str, str] = JSON) -> Response:
    return host.request("POST", path, body=json.dumps(body).encode(), headers=headers)


def writes(host: HostProcess) -> list[dict[str, Any]]:
    reply = host.request("GET", "/_sandbox/requests?writes=true")
    assert reply.status == 200, reply.body
    records: list[dict[str, Any]] = reply.json()["requests"]
    return records


def test_a_rotation_event_delivered_by_webhook_updates_both_registries(host: HostProcess) -> None:
    host.request("DELETE", "/_sandbox/requests")
    rotated = post(host, "/_sandbox/vaults/kv-cache-rbac/secrets/dockerhub-password", {})
    assert rotated.status == 201, rotated.body
    event = rotated.json()["eventGrid"]
    assert event["eventType"] == "Microsoft.KeyVault.SecretNewVersionCreated"
    assert "value" not in json.dumps(rotated.json()).lower().replace("validation", "")

    delivered = post(
        host, "/runtime/webhooks/EventGrid?functionName=on_keyvault_event", [event], NOTIFICATION
    )
    assert delivered.status == 202, host.output()[-2000:]
    patched = sorted(w["path"].lower() for w in writes(host) if w["method"] == "PATCH")
    assert patched == sorted(
        f"{r}/credentialsets/dockerhub".lower()
        for r in (CONTOSO, CONTOSO.replace("contosocache", "fabrikamcache"))
    )

    # Event Grid delivers at least once: the replay (in the other schema too) changes nothing
    before = len(writes(host))
    for _ in range(3):
        assert (
            post(
                host,
                "/runtime/webhooks/EventGrid?functionName=on_keyvault_event",
                [event],
                NOTIFICATION,
            ).status
            == 202
        )
    cloud = rotated.json()["cloudEvent"]
    headers = {
        "Content-Type": "application/cloudevents+json; charset=utf-8",
        "aeg-event-type": "Notification",
    }
    assert (
        post(
            host, "/runtime/webhooks/EventGrid?functionName=on_keyvault_event", cloud, headers
        ).status
        == 202
    )
    assert len(writes(host)) == before


def test_sync_dry_run_over_http(host: HostProcess) -> None:
    reply = host.request("POST", "/api/credential-sets/contosocache/ghcr-acme/sync?dry_run=true")
    assert reply.status == 200, reply.body
    assert reply.json()["status"] == "planned"
    missing = host.request("POST", "/api/credential-sets/contosocache/no-such-set/sync")
    assert missing.status == 404
    assert missing.headers["content-type"].startswith("application/problem+json")


def alert(repository: str, condition: str = "Fired") -> dict[str, Any]:
    payload = json.loads(
        (
            REPO_ROOT / "tests" / "events" / "azure-monitor.commonAlertSchema.logAlertsV2.json"
        ).read_text()
    )
    payload["data"]["essentials"]["monitorCondition"] = condition
    payload["data"]["essentials"]["alertTargetIDs"] = [CONTOSO.lower()]
    payload["data"]["alertContext"]["condition"]["allOf"][0]["dimensions"] = [
        {"name": "Repository", "value": repository},
        {"name": "ResultDescription", "value": "401"},
    ]
    return payload


def test_a_pull_failure_alert_is_diagnosed_with_the_fix_and_nothing_written(
    host: HostProcess,
) -> None:
    host.request("DELETE", "/_sandbox/requests")
    reply = post(host, "/api/alerts/pull-failures", alert("quay/prometheus/prometheus"))
    assert reply.status == 202, reply.body
    (reaction,) = reply.json()["reactions"]
    assert reaction["status"] == "reported"
    fixes = [f["fix"] for f in reaction["plan"]["findings"]]
    assert fixes and all("az role assignment create" in fix for fix in fixes)
    assert writes(host) == []
    report = host.request("GET", "/api/credential-sets/contosocache/quay-io/access")
    assert report.status == 200
    assert report.json()["health"] == "Unhealthy"
    resolved = post(
        host, "/api/alerts/pull-failures", alert("quay/prometheus/prometheus", "Resolved")
    )
    assert resolved.status == 202
    malformed = post(host, "/api/alerts/pull-failures", {"schemaId": "nope"})
    assert malformed.status == 400
    assert malformed.headers["content-type"].startswith("application/problem+json")
    assert writes(host) == []


def test_a_pull_failed_cloud_event_goes_through_the_webhook(host: HostProcess) -> None:
    event = {
        "specversion": "1.0", "id": "pf-e2e-1", "source": "/cachekeeper/e2e", "type": "cachekeeper.PullFailed",
        "time": "2026-11-23T10:00:00Z",
        "data": {"registry": CONTOSO, "repository": "dockerhub/library/nginx", "tag": "1.27", "status": 500},
    }  # fmt: skip
    headers = {"Content-Type": "application/cloudevents+json", "aeg-event-type": "Notification"}
    reply = post(host, "/runtime/webhooks/EventGrid?functionName=on_pull_failure", event, headers)
    assert reply.status == 202, host.output()[-2000:]
