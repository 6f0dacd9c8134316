"""Pull rows through the admin API, then an alert naming the puller: the grant follows the row."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import azure.functions as func
import pytest

from sandbox import Sandbox
from shared import bootstrap
from shared.domain.pullers import ACR_PULL
from tests.conftest import load_event
from tests.function_index import indexed_functions, invocation
from tests.integration.app_context import REGISTRIES, demo_settings, sandbox_context

KUBELET = "5b8e1c2a-7d3f-4e9a-b6c1-2f0a9d8e7c6b"


@pytest.fixture(autouse=True)
def wired(sandbox: Sandbox) -> Iterator[None]:
    settings = demo_settings(REMEDIATION_MODE="fix")
    bootstrap.configure(context=sandbox_context(sandbox, settings=settings))
    yield
    bootstrap.reset()


def call(name: str, method: str, url: str, *, body: Any = None, route: dict[str, str] | None = None) -> func.HttpResponse:  # fmt: skip
    data = b"" if body is None else body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"content-type": "application/json"}
    request = func.HttpRequest(method, url, body=data, route_params=route or {}, headers=headers)
    response = indexed_functions()[name].get_user_function()(request, invocation(name))
    assert isinstance(response, func.HttpResponse)
    return response


def alert(identity: str) -> bytes:
    payload = load_event("azure-monitor.commonAlertSchema.logAlertsV2.json")
    assert isinstance(payload, dict)
    payload["data"]["essentials"]["alertTargetIDs"] = [REGISTRIES["contosocache"]]
    payload["data"]["alertContext"]["condition"]["allOf"][0]["dimensions"] = [
        {"name": "Repository", "value": "dockerhub/library/nginx"}, {"name": "Status", "value": "401"},
        {"name": "Identity", "value": identity},
    ]  # fmt: skip
    return json.dumps(payload).encode()


def test_bad_pull_rows_are_problem_json_and_nothing_is_stored() -> None:
    bad = call(
        "pull_policy",
        "PUT",
        "/api/pull-policies/x",
        body={"principalId": "nope"},
        route={"id": "x"},
    )
    assert bad.status_code == 400 and bad.mimetype == "application/problem+json"
    push = call("pull_policy", "PUT", "/api/pull-policies/x", body={"principalId": KUBELET, "role": "AcrPush"}, route={"id": "x"})  # fmt: skip
    assert push.status_code == 400
    missing = call("pull_policy", "DELETE", "/api/pull-policies/x", route={"id": "x"})
    assert missing.status_code == 404
    listed = call("list_pull_policies", "GET", "/api/pull-policies")
    assert json.loads(listed.get_body()) == {"pullPolicies": []}


def test_an_alert_naming_a_kubelet_with_a_pull_row_grants_acrpull(sandbox: Sandbox) -> None:
    refused = call("pull_failure_alert", "POST", "/api/alerts/pull-failures", body=alert(KUBELET))
    assert refused.status_code == 202 and sandbox.role_assignments_for(KUBELET) == []
    row = {"principalId": KUBELET, "registry": "contosocache", "description": "aks-prod kubelet"}
    stored = call(
        "pull_policy", "PUT", "/api/pull-policies/aks-prod", body=row, route={"id": "aks-prod"}
    )
    assert stored.status_code == 200
    sandbox.clock.advance(
        300
    )  # the next diagnosis window of this puller: failures within one coalesce
    fired = call(
        "pull_failure_alert", "POST", "/api/alerts/pull-failures", body=alert(KUBELET.upper())
    )
    assert fired.status_code == 202
    (grant,) = sandbox.role_assignments_for(KUBELET)
    assert grant.role_definition_guid == ACR_PULL
    assert grant.scope.lower() == REGISTRIES["contosocache"].lower()
