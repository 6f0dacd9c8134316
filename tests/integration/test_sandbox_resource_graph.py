"""Registries found through Azure Resource Graph: the sandbox's Resources operation, driven through
the real ACR management client's pipeline by the product's discovery adapter."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from azure.core.rest import HttpRequest

from sandbox import Sandbox, wiring
from shared.adapters.azure import AzureClients, ResourceGraphDiscovery
from shared.adapters.memory import MemoryFanoutStore, MemoryJournal, MemoryPolicyStore
from shared.domain.discovery import parse_scope
from shared.errors import ConfigurationError
from shared.services.fanout import start_run
from shared.settings import Settings

SUB = "00000000-0000-0000-0000-000000000001"
OTHER = "00000000-0000-0000-0000-000000000002"


def fleet() -> Sandbox:
    registries = [
        {"name": f"reg{i:02d}", "resourceGroup": "rg-a" if i % 2 else "rg-b", "location": "westeurope",
         "sku": "Premium", "tags": {"Env": "Prod" if i % 3 else "dev"}}
        for i in range(7)
    ]  # fmt: skip
    other = {"name": "elsewhere", "resourceGroup": "rg-a", "location": "westeurope",
             "sku": "Premium", "subscription": OTHER, "tags": {"env": "prod"}}  # fmt: skip
    return Sandbox(
        {"subscription": SUB, "registries": [*registries, other],
         "managementGroups": {"platform": [OTHER]}}
    )  # fmt: skip


def discovery(sandbox: Sandbox) -> ResourceGraphDiscovery:
    return ResourceGraphDiscovery(AzureClients(sandbox.credential(), transport=sandbox.transport()))


def test_a_subscription_and_a_tag_filter_find_the_tagged_registries_in_id_order() -> None:
    sandbox = fleet()
    found = discovery(sandbox).registries(parse_scope(f"/subscriptions/{SUB}", "env=prod"))
    assert [r.name for r in found] == ["reg01", "reg05", "reg02", "reg04"]  # rg-a, then rg-b


def test_resource_groups_and_management_groups_narrow_and_widen_the_scope() -> None:
    sandbox = fleet()
    scope = parse_scope(
        f"/subscriptions/{SUB}/resourceGroups/RG-A,/providers/Microsoft.Management/managementGroups/platform"
    )
    found = discovery(sandbox).registries(scope)
    assert [r.name for r in found] == ["reg01", "reg03", "reg05", "elsewhere"]


def test_pages_follow_the_skip_token_and_a_query_outside_the_grammar_is_refused() -> None:
    sandbox = fleet()
    client = AzureClients(sandbox.credential(), transport=sandbox.transport()).container_registry(
        SUB
    )
    body = {"subscriptions": [SUB], "query": "resources | project id | order by id asc",
            "options": {"$top": 3}}  # fmt: skip
    params = {"api-version": "2022-10-01"}
    path = "/providers/Microsoft.ResourceGraph/resources"
    first = client.send_request(HttpRequest("POST", path, params=params, json=body)).json()
    assert (first["count"], first["totalRecords"]) == (3, 7) and first["$skipToken"]
    body["options"] = {"$top": 3, "$skipToken": first["$skipToken"]}
    second = client.send_request(HttpRequest("POST", path, params=params, json=body)).json()
    assert [r["id"].rsplit("/", 1)[-1] for r in second["data"]] == ["reg00", "reg02", "reg04"]
    body["query"] = "resources | summarize count()"
    refused = client.send_request(HttpRequest("POST", path, params=params, json=body))
    assert refused.status_code == 400
    assert json.loads(refused.text())["error"]["details"][0]["code"] == "InvalidQuery"


def test_the_audit_run_covers_the_listed_and_the_discovered_registries_once() -> None:
    sandbox = fleet()
    listed = f"/subscriptions/{SUB}/resourceGroups/rg-b/providers/Microsoft.ContainerRegistry/registries/reg02"
    settings = Settings.from_env({
        "CACHEKEEPER_MODE": "sandbox", "MANAGED_REGISTRIES": listed,
        "REGISTRY_SCOPE": f"/subscriptions/{SUB}/resourceGroups/rg-b", "REGISTRY_TAG_FILTER": "env=prod",
    })  # fmt: skip
    ctx = replace(
        wiring.sandbox_context(
            sandbox, settings, policies=MemoryPolicyStore(), journal=MemoryJournal()
        ),
        fanout=MemoryFanoutStore(),
    )
    messages = start_run(ctx)
    assert [json.loads(m)["registry"].rsplit("/", 1)[-1] for m in messages] == ["reg02", "reg04"]


def test_a_tag_filter_without_a_scope_and_a_bad_scope_stop_start_up() -> None:
    base = {
        "CACHEKEEPER_MODE": "sandbox",
        "MANAGED_REGISTRIES": f"/subscriptions/{SUB}/resourceGroups/r/providers/Microsoft.ContainerRegistry/registries/a",
    }
    with pytest.raises(ConfigurationError, match="REGISTRY_TAG_FILTER"):
        Settings.from_env(base | {"REGISTRY_TAG_FILTER": "env=prod"})
    with pytest.raises(ConfigurationError, match="REGISTRY_SCOPE"):
        Settings.from_env(base | {"REGISTRY_SCOPE": "/subscriptions/nope"})
