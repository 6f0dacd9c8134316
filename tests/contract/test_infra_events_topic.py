"""The topic cachekeeper publishes its own events to, read from the parsed Bicep: created with
local auth off and public access per the app's network setting, reached privately in a virtual
network, EventGrid Data Sender for the app's identity on that topic only, and its endpoint in
the app's settings as the app reads it."""

from __future__ import annotations

from typing import Any

import pytest

from shared.settings import Settings
from tests.contract.test_infra_bicep import (
    EVENTGRID_DATA_SENDER,
    app_settings,
    main_env,
    role_assignments,
)
from tests.contract.test_infra_evaluator import template


def topic_properties(**overrides: Any) -> list[dict[str, Any]]:
    main = template("main.bicep")
    found = []
    for child, env in main.module_envs("eventsTopic", main_env(**overrides)):
        for instance in child.instances("resource", "topic", env):
            found.append(child.evaluate(instance.body["properties"], instance.env))
    return found


@pytest.mark.parametrize(("vnet", "access"), [(False, "Enabled"), (True, "Disabled")])
def test_the_events_topic_takes_entra_tokens_only_and_follows_the_network_setting(
    vnet: bool, access: str
) -> None:
    [properties] = topic_properties(vnetEnabled=vnet)
    assert properties["disableLocalAuth"] is True
    assert properties["publicNetworkAccess"] == access
    assert properties["inputSchema"] == "CloudEventSchemaV1_0"


def test_in_a_virtual_network_the_app_reaches_the_topic_through_a_private_endpoint() -> None:
    network = template("app/network.bicep")
    endpoint = network.resources["eventsTopicEndpoint"]["config"]
    body = endpoint.get("config", endpoint)
    [connection] = body["properties"]["privateLinkServiceConnections"]
    assert connection["properties"]["groupIds"] == ["topic"]
    zone = network.resources["eventGridZone"]["config"]
    assert (zone.get("config") or zone)["name"] == "privatelink.eventgrid.azure.net"


def test_the_app_may_send_to_the_events_topic_and_nothing_else_of_event_grid() -> None:
    senders = [a for a in role_assignments() if a.role == EVENTGRID_DATA_SENDER]
    ours = [a for a in senders if a.where == "app/events-topic-sender.bicep"]
    assert len(ours) == 1 and ours[0].scope_type == "Microsoft.EventGrid/topics"
    main = template("main.bicep")
    [(child, _)] = main.module_envs("eventsTopicSender", main_env())
    assert child.relative() == "app/events-topic-sender.bicep"
    body = main.modules["eventsTopicSender"]["config"]
    params = (body.get("config") or body)["params"]
    principal = str(params["principalId"])  # the app's own identity, nobody else's
    assert "'api'" in principal and "identityPrincipalId" in principal, principal
    assert "eventsTopic" in str(params["topicName"])


def test_the_app_setting_names_the_topic_it_creates_and_parses() -> None:
    settings = app_settings()
    endpoint = settings["EVENTS_TOPIC_ENDPOINT"]
    assert endpoint.startswith("https://evgt-events-")
    assert endpoint.endswith(".westeurope-1.eventgrid.azure.net/api/events")
    assert Settings.from_env(settings).events_topic_endpoint == endpoint


def test_publishing_off_creates_no_topic_and_leaves_the_setting_empty() -> None:
    assert topic_properties(publishEvents=False) == []
    settings = app_settings(publishEvents=False)
    assert settings["EVENTS_TOPIC_ENDPOINT"] == ""
    assert Settings.from_env(settings).events_topic_endpoint is None
