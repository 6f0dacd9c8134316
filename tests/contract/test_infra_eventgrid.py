"""Event Grid wiring and the pull-failure alert, checked against the app itself.

infra/events.json is the one list of Event Grid functions and the event types each one handles.
These tests hold it to the app (the functions the worker indexes, the event types the services
handle) and evaluate what main.bicep and wiring.bicep deploy from it: every subscription points
at a function that exists, filters exactly its event types, retries and dead-letters with the
topic's identity; the alert's dimensions are what the alert webhook parses.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import azure.functions as func

from shared.domain.pullers import Puller, PullerKind
from shared.services.reactions import REACTIONS
from shared.signals import SOURCES
from shared.signals.pull_failures import parse_pull_failure_alert
from tests.conftest import load_event
from tests.contract.test_infra_bicep import REGISTRIES, VAULTS, main_env
from tests.contract.test_infra_evaluator import INFRA, Template, template
from tests.function_index import indexed_functions

EVENTS = json.loads((INFRA / "events.json").read_text())
TOPICS = ("keyVault", "registry", "custom")
HANDLED = {source.function: set(source.event_types) for source in SOURCES}  # the signal table


def _entries() -> list[dict[str, Any]]:
    return [entry for topic in TOPICS for entry in EVENTS[topic]["subscriptions"]]


def _trigger(name: str) -> dict[str, Any]:
    return indexed_functions()[name].get_trigger().get_dict_repr()


# -- events.json against the app ----------------------------------------------------------------


def test_every_event_grid_function_of_the_app_is_wired_and_only_those() -> None:
    wired = {entry["function"] for entry in _entries()}
    app = {n for n in indexed_functions() if _trigger(n)["type"] == "eventGridTrigger"}
    assert wired == app


def test_each_subscription_filters_exactly_the_event_types_its_function_handles() -> None:
    assert {e["function"] for e in _entries()} == set(HANDLED)
    for entry in _entries():
        types = entry["includedEventTypes"]
        assert len(types) == len(set(types)), entry["name"]
        assert set(types) == HANDLED[entry["function"]], entry["name"]


def test_every_source_is_subscribed_on_its_kind_of_topic_and_every_type_has_a_reaction() -> None:
    for source in SOURCES:
        wired = {e["function"] for e in EVENTS[source.topic]["subscriptions"]}
        assert source.function in wired, source.name
    assert set(REACTIONS) == {t for source in SOURCES for t in source.event_types}
    keys = [source.name for source in SOURCES]
    assert len(keys) == len(set(keys))  # idempotency keys of two sources never collide


def test_custom_events_are_cloudevents_end_to_end() -> None:
    assert EVENTS["custom"]["inputSchema"] == "CloudEventSchemaV1_0"
    for entry in EVENTS["custom"]["subscriptions"]:
        assert entry["eventDeliverySchema"] == "CloudEventSchemaV1_0", entry["name"]


def test_subscription_names_are_valid_and_unique() -> None:
    names = [e["name"] for e in _entries()]
    assert len(names) == len(set(names))
    assert all(re.fullmatch(r"[A-Za-z0-9-]{3,64}", n) for n in names), names


def test_the_alert_webhook_is_a_function_key_post_route() -> None:
    trigger = _trigger(EVENTS["alertWebhookFunction"])
    assert trigger["type"] == "httpTrigger"
    assert func.AuthLevel(trigger["authLevel"]) is func.AuthLevel.FUNCTION
    assert {str(getattr(m, "value", m)).upper() for m in trigger["methods"]} == {"POST"}


# -- what the templates deploy --------------------------------------------------------------------


def wiring_env(**overrides: Any) -> dict[str, Any]:
    """wiring.bicep's parameters, taken from main.bicep's output as the postdeploy hook does."""
    main = template("main.bicep")
    output = main.evaluate(
        main.outputs["CACHEKEEPER_WIRING_PARAMETERS"]["value"], main_env(**overrides)
    )
    wiring = template("wiring.bicep")
    assert set(output) == set(wiring.parameters), "main's wiring output and wiring.bicep differ"
    assert all(set(v) == {"value"} for v in output.values())
    return wiring.defaults(**{k: v["value"] for k, v in output.items()})


def _subscriptions() -> list[tuple[str, str, dict[str, Any]]]:
    """(module symbol, topic name, evaluated subscription body) for everything wiring deploys."""
    wiring, out = template("wiring.bicep"), []
    for symbol in wiring.modules:
        for child, env in wiring.module_envs(symbol, wiring_env()):
            for res_symbol, res in child.resources.items():
                if not res["type"].endswith("/eventSubscriptions"):
                    continue
                for instance in child.instances("resource", res_symbol, env):
                    body = child.evaluate(instance.body, instance.env)
                    out.append((symbol, env["topicName"], body))
    return out


def test_every_topic_gets_the_subscriptions_for_its_events() -> None:
    found = _subscriptions()
    expected = (
        len(VAULTS) * len(EVENTS["keyVault"]["subscriptions"])
        + len(REGISTRIES) * len(EVENTS["registry"]["subscriptions"])
        + len(EVENTS["custom"]["subscriptions"])
    )
    assert len(found) == expected
    by_topic: dict[str, set[str]] = {}
    for _, topic, body in found:
        by_topic.setdefault(topic, set()).add(body["name"])
    main = template("main.bicep")
    for symbol, kind in (("vaults", "keyVault"), ("registries", "registry")):
        for _, env in main.module_envs(symbol, main_env()):
            names = {e["name"] for e in EVENTS[kind]["subscriptions"]}
            assert by_topic[env["topicName"]] == names, f"the {symbol} topic is not wired"


def test_every_subscription_calls_an_existing_function_with_only_its_event_types() -> None:
    app = wiring_env()["functionAppName"]
    by_name = {e["name"]: e for e in _entries()}
    for _, topic, body in _subscriptions():
        entry, props = by_name[body["name"]], body["properties"]
        destination = props["destination"]
        assert destination["endpointType"] == "AzureFunction", topic
        function_id = destination["properties"]["resourceId"]
        assert function_id.endswith(
            f"/providers/Microsoft.Web/sites/{app}/functions/{entry['function']}"
        )
        assert entry["function"] in indexed_functions()
        assert props["filter"]["includedEventTypes"] == entry["includedEventTypes"]
        assert props["eventDeliverySchema"] == entry["eventDeliverySchema"]


def test_every_subscription_retries_and_dead_letters_with_the_topic_identity() -> None:
    main = template("main.bicep")
    ((_, storage),) = main.module_envs("storage", main_env())
    for _, topic, body in _subscriptions():
        props = body["properties"]
        assert 1 <= props["retryPolicy"]["maxDeliveryAttempts"] <= 30, topic
        assert 1 <= props["retryPolicy"]["eventTimeToLiveInMinutes"] <= 1440, topic
        dead_letter = props["deadLetterWithResourceIdentity"]
        assert dead_letter["identity"] == {"type": "SystemAssigned"}, topic
        target = dead_letter["deadLetterDestination"]
        assert target["endpointType"] == "StorageBlob"
        assert target["properties"]["resourceId"].endswith(f"/storageAccounts/{storage['name']}")
        assert target["properties"]["blobContainerName"] == storage["deadLetterContainer"]


def test_topics_have_an_identity_that_may_write_dead_letters() -> None:
    main = template("main.bicep")
    topics = 0
    for symbol in ("registries", "vaults", "customTopic"):
        for child, _ in main.module_envs(symbol, main_env()):
            for res in child.resources.values():
                if res["type"] in (
                    "Microsoft.EventGrid/systemTopics",
                    "Microsoft.EventGrid/topics",
                ):
                    assert not res["existing"]
                    assert res["config"]["identity"] == {"type": "SystemAssigned"}
                    topics += 1
    writers = [
        env
        for symbol in main.modules
        if main.module_template(symbol).relative() == "app/dead-letter-access.bicep"
        for _, env in main.module_envs(symbol, main_env())
    ]
    assert topics == len(REGISTRIES) + len(VAULTS) + 1
    assert len(writers) == topics
    assert {w["containerName"] for w in writers} == {EVENTS["deadLetterContainer"]}


def test_system_topics_watch_the_managed_resources_with_the_right_topic_type() -> None:
    main = template("main.bicep")
    for symbol, kind, ids in (
        ("registries", "registry", REGISTRIES),
        ("vaults", "keyVault", VAULTS),
    ):
        for (child, env), rid in zip(main.module_envs(symbol, main_env()), ids, strict=True):
            (topic,) = [s for s, r in child.resources.items() if r["type"].endswith("systemTopics")]
            props = child.evaluate(child.resources[topic]["config"]["properties"], env)
            assert props["topicType"] == EVENTS[kind]["topicType"]
            assert props["source"].endswith("/" + rid.split("/")[-1])


# -- the pull-failure alert -----------------------------------------------------------------------


def _alert(**overrides: Any) -> tuple[Template, dict[str, Any]]:
    wiring = template("wiring.bicep")
    ((child, env),) = wiring.module_envs("pullFailureAlert", wiring_env(**overrides))
    return child, env


def _rule(**overrides: Any) -> dict[str, Any]:
    child, env = _alert(**overrides)
    (symbol,) = [s for s, r in child.resources.items() if r["type"].endswith("scheduledQueryRules")]
    return child.evaluate(child.resources[symbol]["config"], env)


def test_the_action_group_calls_the_webhook_with_the_function_s_own_key() -> None:
    child, env = _alert()
    assert env["webhookFunction"] == EVENTS["alertWebhookFunction"]
    assert env["functionAppName"] == wiring_env()["functionAppName"]
    (group,) = [r for r in child.resources.values() if r["type"].endswith("actionGroups")]
    (receiver,) = group["config"]["properties"]["webhookReceivers"]
    assert receiver["useCommonAlertSchema"] is True
    symbol = re.fullmatch(
        r"\$\{(\w+)\.properties\.invoke_url_template\}\?code=\$\{(\w+)\.listKeys\(\)\.default\}",
        receiver["serviceUri"],
    )
    assert symbol is not None and symbol[1] == symbol[2], receiver["serviceUri"]
    function = child.resources[symbol[1]]
    assert function["type"] == "Microsoft.Web/sites/functions" and function["existing"]
    assert function["config"]["name"] == "webhookFunction"
    assert child.resources[function["config"]["parent"]]["type"] == "Microsoft.Web/sites"


def test_the_alert_queries_the_workspace_the_registries_send_their_logs_to() -> None:
    rule = _rule()["properties"]
    main = template("main.bicep")
    ((_, monitoring),) = main.module_envs("monitoring", main_env())
    assert rule["scopes"] == [wiring_env()["workspaceId"]]
    assert rule["scopes"][0].endswith(f"/workspaces/{monitoring['workspaceName']}")
    (query,) = [c["query"] for c in rule["criteria"]["allOf"]]
    table = query.strip().splitlines()[0].strip()
    for child, env in main.module_envs("registries", main_env()):
        (diag,) = [r for r in child.resources.values() if r["type"].endswith("diagnosticSettings")]
        props = child.evaluate(diag["config"]["properties"], env)
        assert props["workspaceId"].endswith(f"/workspaces/{monitoring['workspaceName']}")
        assert {"category": table, "enabled": True} in props["logs"]


def test_the_alert_is_split_by_columns_the_query_projects() -> None:
    (criterion,) = _rule()["properties"]["criteria"]["allOf"]
    dimensions = {d["name"] for d in criterion["dimensions"]}
    projected = re.search(r"\|\s*project\s+([^|]+)$", criterion["query"].strip())
    assert projected is not None
    columns = {c.strip() for c in projected[1].split(",")}
    assert dimensions <= columns
    assert {"Repository", "ResourceId"} <= dimensions


def test_the_webhook_understands_the_alert_the_rule_sends() -> None:
    (criterion,) = _rule()["properties"]["criteria"]["allOf"]
    values = {"ResourceId": REGISTRIES[1].upper(), "Repository": "dockerhub/library/nginx"}
    values |= {"Status": "404", "ResultDescription": "404"}
    values |= {"Identity": "11111111-2222-3333-4444-555555555555"}
    payload = copy.deepcopy(load_event("azure-monitor.commonAlertSchema.logAlertsV2.json"))
    assert isinstance(payload, dict)
    payload["data"]["essentials"]["alertTargetIDs"] = [wiring_env()["workspaceId"]]
    payload["data"]["alertContext"]["condition"]["allOf"][0]["dimensions"] = [
        {"name": d["name"], "value": values[d["name"]]} for d in criterion["dimensions"]
    ]
    (failure,) = parse_pull_failure_alert(payload).failures
    assert str(failure.registry).lower() == REGISTRIES[1].lower()
    assert str(failure.repository) == "dockerhub/library/nginx"
    assert failure.status == 404
    assert failure.puller == Puller(PullerKind.ENTRA, "11111111-2222-3333-4444-555555555555")


def test_the_alert_names_the_puller_acr_logs_and_an_empty_one_names_nobody() -> None:
    """The query projects ACR's `Identity` column ("unknown" when empty) as a dimension: a GUID is
    an Entra object id, the registry's own name its admin user, another name a token."""
    (criterion,) = _rule()["properties"]["criteria"]["allOf"]
    assert "Identity" in {d["name"] for d in criterion["dimensions"]}
    assert 'Identity = iff(isempty(Identity), "unknown", Identity)' in criterion["query"]
    registry_name = REGISTRIES[0].rsplit("/", 1)[1]
    expected = {
        "unknown": None,
        registry_name: Puller(PullerKind.ADMIN_USER, registry_name),
        "ci-pull-token": Puller(PullerKind.TOKEN, "ci-pull-token"),
    }
    for logged, puller in expected.items():
        payload = copy.deepcopy(load_event("azure-monitor.commonAlertSchema.logAlertsV2.json"))
        assert isinstance(payload, dict)
        payload["data"]["essentials"]["alertTargetIDs"] = [wiring_env()["workspaceId"]]
        payload["data"]["alertContext"]["condition"]["allOf"][0]["dimensions"] = [
            {"name": "ResourceId", "value": REGISTRIES[0]},
            {"name": "Repository", "value": "dockerhub/library/nginx"},
            {"name": "Status", "value": "401"},
            {"name": "Identity", "value": logged},
        ]
        (failure,) = parse_pull_failure_alert(payload).failures
        assert failure.puller == puller, logged


def test_the_alert_is_split_by_a_status_the_webhook_reads_even_when_it_is_unknown() -> None:
    """The query names the status `Status`: the leading three-digit code of ResultDescription
    (or ResultType), "unknown" when neither has one; an unknown status is still a failure."""
    (criterion,) = _rule()["properties"]["criteria"]["allOf"]
    assert {d["name"] for d in criterion["dimensions"]} == {
        "ResourceId", "Repository", "Status", "Identity",
    }  # fmt: skip
    query = criterion["query"]
    assert 'OperationName in~ ("Pull"' in query and 'OperationName contains "pull"' in query
    assert '"unknown"' in query and "ResultType" in query
    payload = copy.deepcopy(load_event("azure-monitor.commonAlertSchema.logAlertsV2.json"))
    assert isinstance(payload, dict)
    payload["data"]["essentials"]["alertTargetIDs"] = [wiring_env()["workspaceId"]]
    payload["data"]["alertContext"]["condition"]["allOf"][0]["dimensions"] = [
        {"name": "ResourceId", "value": REGISTRIES[0]},
        {"name": "Repository", "value": "dockerhub/library/nginx"},
        {"name": "Status", "value": "unknown"},
    ]
    (failure,) = parse_pull_failure_alert(payload).failures
    assert failure.status is None


def test_alert_thresholds_come_from_the_deployment_parameters() -> None:
    rule = _rule(
        pullFailureThreshold=3,
        pullFailureWindow="PT15M",
        pullFailureEvaluationFrequency="PT5M",
        pullFailureSeverity=1,
    )["properties"]
    (criterion,) = rule["criteria"]["allOf"]
    assert criterion["threshold"] == 3
    assert rule["windowSize"] == "PT15M"
    assert rule["evaluationFrequency"] == "PT5M"
    assert rule["severity"] == 1
    assert rule["actions"]["actionGroups"], "the alert must call the action group"
