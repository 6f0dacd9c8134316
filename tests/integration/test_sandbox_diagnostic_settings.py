"""Diagnostic settings at a registry's scope, as ARM serves them (api-version 2021-05-01-preview),
through the real ACR management client's `send_request` (what the product's Monitor adapter sends)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from azure.core.rest import HttpRequest

from sandbox import Sandbox
from sandbox.embedded import handle_http, set_sandbox
from shared.adapters.azure import AzureClients, AzureMonitor
from shared.adapters.azure.monitor import API_VERSION, diagnostic_setting_from_json
from shared.domain.ids import ResourceId
from shared.domain.log_routing import REPOSITORY_EVENTS
from shared.errors import NotFoundError
from tests.integration.conftest import RG_CACHE, SUBSCRIPTION, SdkClients

REGISTRY = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{RG_CACHE}/providers/Microsoft.ContainerRegistry/registries"
SETTINGS = "providers/Microsoft.Insights/diagnosticSettings"


def get(clients: SdkClients, path: str, api_version: str = API_VERSION) -> tuple[int, Any]:
    response = clients.acr.send_request(
        HttpRequest("GET", path, params={"api-version": api_version})
    )
    return response.status_code, response.json() if response.content else None


def test_the_demo_registries_send_their_repository_events_to_the_workspace(
    sdk_clients: SdkClients,
) -> None:
    for name in ("contosocache", "fabrikamcache"):
        status, body = get(sdk_clients, f"{REGISTRY}/{name}/{SETTINGS}")
        assert status == 200
        assert "nextLink" not in body  # DiagnosticSettings_List is not paged
        (item,) = body["value"]
        assert item["type"] == "Microsoft.Insights/diagnosticSettings"
        assert item["id"].lower().endswith(f"/registries/{name}/{SETTINGS}/cachekeeper".lower())
        setting = diagnostic_setting_from_json(item)
        assert setting.to_workspace(REPOSITORY_EVENTS) and setting.resource_specific()
        one_status, one = get(sdk_clients, f"{REGISTRY}/{name}/{SETTINGS}/cachekeeper")
        assert (one_status, one) == (200, item)


def test_a_registry_has_none_until_one_is_created_and_none_after_it_is_deleted(
    sandbox: Sandbox, sdk_clients: SdkClients
) -> None:
    path = f"{REGISTRY}/fabrikamcache/{SETTINGS}"
    set_sandbox(sandbox)
    try:
        status, _, payload = handle_http(
            "DELETE",
            "/_sandbox/registries/fabrikamcache/diagnosticSettings/cachekeeper",
            {},
            {},
            b"",
        )
        assert (status, json.loads(payload)) == (200, {"removed": True})
        assert get(sdk_clients, path) == (200, {"value": []})
        body = json.dumps(
            {
                "properties": {
                    "workspaceId": "/x",
                    "logs": [{"categoryGroup": "audit", "enabled": True}],
                }
            }
        )
        status, _, _ = handle_http(
            "PUT", "/_sandbox/registries/fabrikamcache/diagnosticSettings/audit-only", {}, {}, body.encode()
        )  # fmt: skip
        assert status == 200
    finally:
        set_sandbox(None)
    (item,) = get(sdk_clients, path)[1]["value"]
    assert item["name"] == "audit-only"
    assert item["properties"]["logs"] == [{"categoryGroup": "audit", "enabled": True}]


@pytest.mark.parametrize(
    ("path", "api_version", "status", "code"),
    [
        (f"{REGISTRY}/fabrikamcache/{SETTINGS}/nope", API_VERSION, 404, "ResourceNotFound"),
        (f"{REGISTRY}/nocache/{SETTINGS}", API_VERSION, 404, "ResourceNotFound"),
        (f"{REGISTRY}/fabrikamcache/{SETTINGS}", "2025-11-01", 400, "InvalidApiVersionParameter"),
    ],
)
def test_missing_settings_registries_and_other_api_versions_are_refused(
    sdk_clients: SdkClients, path: str, api_version: str, status: int, code: str
) -> None:
    answered, body = get(sdk_clients, path, api_version)
    assert answered == status
    # a missing setting: the spec's flat ErrorResponse; the rest: ARM's error envelope
    assert (body["code"] if path.endswith("/nope") else body["error"]["code"]) == code


def test_the_product_adapter_reads_them_and_maps_a_missing_registry_to_not_found(
    sandbox: Sandbox,
) -> None:
    monitor = AzureMonitor(AzureClients(sandbox.credential(), transport=sandbox.transport()))
    (setting,) = monitor.diagnostic_settings(ResourceId.parse(f"{REGISTRY}/contosocache"))
    assert setting.name == "cachekeeper" and setting.workspace_id
    with pytest.raises(NotFoundError):
        monitor.diagnostic_settings(ResourceId.parse(f"{REGISTRY}/nocache"))
