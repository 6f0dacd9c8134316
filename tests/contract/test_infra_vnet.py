"""The optional virtual network (`vnetEnabled`, off by default), as the Flex Consumption azd
template has it: only when enabled do the network, its subnets, the storage private endpoints and
their DNS zones exist, the function app sends its traffic through the delegated subnet
(`virtualNetworkSubnetId`), and the storage account denies other networks."""

from __future__ import annotations

import json
from typing import Any

from tests.contract.test_infra_bicep import main_env
from tests.contract.test_infra_evaluator import INFRA, Template, template


def _deployed(tpl: Template, env: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    """The evaluated bodies of every resource of `kind` that `tpl` deploys for `env`."""
    return [
        tpl.evaluate(instance.body, instance.env)
        for symbol, res in tpl.resources.items()
        if res["type"] == kind and not res["existing"]
        for instance in tpl.instances("resource", symbol, env)
    ]


def _app_subnet(vnet: bool) -> Any:
    """The function app's `virtualNetworkSubnetId`, evaluated."""
    main = template("main.bicep")
    ((api, env),) = main.module_envs("api", main_env(vnetEnabled=vnet))
    (site,) = [s for s, r in api.resources.items() if r["type"] == "Microsoft.Web/sites"]
    (instance,) = api.instances("resource", site, env)
    return api.evaluate(instance.body["properties"]["virtualNetworkSubnetId"], instance.env)


def _storage_acls(vnet: bool) -> dict[str, Any]:
    main = template("main.bicep")
    ((storage, env),) = main.module_envs("storage", main_env(vnetEnabled=vnet))
    (account,) = _deployed(storage, env, "Microsoft.Storage/storageAccounts")
    acls: dict[str, Any] = account["properties"]["networkAcls"]
    return acls


def test_the_virtual_network_is_off_by_default_and_azd_can_turn_it_on() -> None:
    main = template("main.bicep")
    assert main.defaults()["vnetEnabled"] is False
    parameters = json.loads((INFRA / "main.parameters.json").read_text(encoding="utf-8"))
    assert parameters["parameters"]["vnetEnabled"]["value"] == "${VNET_ENABLED=false}"


def test_without_a_virtual_network_nothing_of_it_is_deployed() -> None:
    assert template("main.bicep").instances("module", "network", main_env()) == []
    assert _app_subnet(vnet=False) is None
    assert _storage_acls(vnet=False) == {"bypass": "AzureServices", "defaultAction": "Allow"}


def test_with_a_virtual_network_the_app_uses_its_delegated_subnet_and_storage_private_endpoints() -> (
    None
):
    main = template("main.bicep")
    ((network, env),) = main.module_envs("network", main_env(vnetEnabled=True))
    (vnet,) = _deployed(network, env, "Microsoft.Network/virtualNetworks")
    subnets = {s["name"]: s["properties"] for s in vnet["properties"]["subnets"]}
    delegated = [
        name for name, props in subnets.items()
        if [d["properties"]["serviceName"] for d in props.get("delegations", [])]
        == ["Microsoft.App/environments"]
    ]  # fmt: skip
    assert delegated == ["app"]
    vnet_id = f"{network.evaluate('vnet', env)['id']}"
    assert _app_subnet(vnet=True) == f"{vnet_id}/subnets/app"
    storage_id = network.evaluate("storage", env)["id"]
    topic_id = network.evaluate("eventsTopic", env)["id"]
    endpoints = _deployed(network, env, "Microsoft.Network/privateEndpoints")
    connections = [
        c["properties"] for e in endpoints for c in e["properties"]["privateLinkServiceConnections"]
    ]
    # the storage services, and the topic the app publishes its events to
    found = sorted((c["privateLinkServiceId"], g) for c in connections for g in c["groupIds"])
    assert found == sorted(
        [*((storage_id, s) for s in ("blob", "queue", "table")), (topic_id, "topic")]
    )
    assert topic_id.endswith("/Microsoft.EventGrid/topics/" + env["eventsTopicName"])
    assert {e["properties"]["subnet"]["id"] for e in endpoints} == {
        f"{vnet_id}/subnets/private-endpoints"
    }
    zones = {z["name"] for z in _deployed(network, env, "Microsoft.Network/privateDnsZones")}
    assert zones == {f"privatelink.{s}.core.windows.net" for s in ("blob", "queue", "table")} | {
        "privatelink.eventgrid.azure.net"
    }
    links = _deployed(network, env, "Microsoft.Network/privateDnsZones/virtualNetworkLinks")
    assert len(links) == 4
    assert {link["properties"]["virtualNetwork"]["id"] for link in links} == {vnet_id}
    records = _deployed(network, env, "Microsoft.Network/privateEndpoints/privateDnsZoneGroups")
    assert len(records) == 4
    assert _storage_acls(vnet=True) == {"bypass": "AzureServices", "defaultAction": "Deny"}
