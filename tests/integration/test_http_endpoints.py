"""Admin endpoints as the worker calls them (the indexed user functions), over a sandbox context."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import azure.functions as func
import pytest

from functions._http import MAX_BODY_BYTES
from sandbox import Sandbox
from shared import bootstrap
from tests.conftest import load_event
from tests.function_index import indexed_functions, invocation
from tests.integration.app_context import REGISTRIES, demo_settings, sandbox_context


@pytest.fixture(autouse=True)
def wired(sandbox: Sandbox) -> Iterator[None]:
    bootstrap.configure(context=sandbox_context(sandbox, settings=demo_settings()))
    yield
    bootstrap.reset()


def call(name: str, method: str, url: str, *, body: bytes = b"", route: dict[str, str] | None = None,
         params: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> func.HttpResponse:  # fmt: skip
    request = func.HttpRequest(
        method, url, body=body, route_params=route or {}, params=params or {}, headers=headers or {}
    )
    response = indexed_functions()[name].get_user_function()(request, invocation(name))
    assert isinstance(response, func.HttpResponse)
    return response


def body(response: func.HttpResponse) -> Any:
    return json.loads(response.get_body())


def test_sync_dry_run_returns_the_plan_and_writes_nothing(sandbox: Sandbox) -> None:
    response = call("sync_credential_set", "POST", "/api/credential-sets/contosocache/ghcr-acme/sync",
                    route={"registry": "contosocache", "name": "ghcr-acme"}, params={"dry_run": "true"})  # fmt: skip
    assert response.status_code == 200
    assert body(response)["status"] == "planned"
    assert sandbox.log.writes() == []


@pytest.mark.parametrize(
    ("route", "params", "status"),
    [
        ({"registry": "contosocache", "name": "ghcr-acme"}, {"dry_run": "perhaps"}, 400),
        ({"registry": "elsewhere", "name": "ghcr-acme"}, {}, 404),
        ({"registry": "contosocache", "name": "no"}, {}, 400),
        ({"registry": "contosocache", "name": "ghost-set"}, {}, 404),
    ],
)
def test_sync_errors_are_problem_json(
    route: dict[str, str], params: dict[str, str], status: int
) -> None:
    response = call("sync_credential_set", "POST", "/api/x", route=route, params=params)
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert body(response)["status"] == status


def test_access_report_for_the_unhealthy_set(sandbox: Sandbox) -> None:
    response = call(
        "credential_set_access",
        "GET",
        "/api/x",
        route={"registry": "contosocache", "name": "quay-io"},
    )
    assert response.status_code == 200
    report = body(response)
    assert report["health"] == "Unhealthy"
    assert {f["kind"] for f in report["plan"]["findings"]} == {"access-denied"}
    assert sandbox.log.writes() == []


def alert_with(
    condition: str = "Fired", *, status: tuple[str, str] = ("ResultDescription", "401")
) -> bytes:
    payload = load_event("azure-monitor.commonAlertSchema.logAlertsV2.json")
    assert isinstance(payload, dict)
    payload["data"]["essentials"]["monitorCondition"] = condition
    payload["data"]["essentials"]["alertTargetIDs"] = [REGISTRIES["contosocache"]]
    payload["data"]["alertContext"]["condition"]["allOf"][0]["dimensions"] = [
        {"name": "Repository", "value": "quay/prometheus/prometheus"}, {"name": status[0], "value": status[1]}
    ]  # fmt: skip
    return json.dumps(payload).encode()


@pytest.mark.parametrize("status", [("Status", "unknown"), ("ResultDescription", "Failed")])
def test_an_alert_whose_logged_status_is_no_http_code_is_still_diagnosed(
    sandbox: Sandbox, status: tuple[str, str]
) -> None:
    """What ACR logs in ResultDescription is not documented: the alert's query reports a failure
    without a three-digit code as Status "unknown", and the webhook diagnoses it all the same."""
    fired = call(
        "pull_failure_alert", "POST", "/api/alerts/pull-failures", body=alert_with(status=status)
    )
    assert fired.status_code == 202
    (reaction,) = body(fired)["reactions"]
    assert reaction["status"] == "reported"  # the quay-io credential set is diagnosed
    assert sandbox.log.writes() == []


def test_a_fired_alert_is_diagnosed_and_a_resolved_one_changes_nothing(sandbox: Sandbox) -> None:
    fired = call("pull_failure_alert", "POST", "/api/alerts/pull-failures", body=alert_with())
    assert fired.status_code == 202
    (reaction,) = body(fired)["reactions"]
    assert reaction["status"] == "reported"
    sandbox.log.clear()
    resolved = call(
        "pull_failure_alert", "POST", "/api/alerts/pull-failures", body=alert_with("Resolved")
    )
    assert resolved.status_code == 202
    assert body(resolved)["reactions"][0]["status"] == "no-change"
    assert sandbox.log.all() == []


def test_the_reference_alert_is_accepted() -> None:
    raw = json.dumps(load_event("azure-monitor.commonAlertSchema.logAlertsV2.json")).encode()
    response = call("pull_failure_alert", "POST", "/api/alerts/pull-failures", body=raw)
    assert response.status_code == 202
    assert body(response)["reactions"] == []


@pytest.mark.parametrize(
    ("payload", "headers", "status"),
    [
        (b'{"schemaId": "something else"}', {}, 400),
        (b"not json", {}, 400),
        (b"{}", {"content-type": "text/plain"}, 415),
        (b"[" + b" " * (MAX_BODY_BYTES + 1) + b"]", {}, 413),
    ],
)
def test_bad_alert_payloads_change_nothing(
    sandbox: Sandbox, payload: bytes, headers: dict[str, str], status: int
) -> None:
    response = call(
        "pull_failure_alert", "POST", "/api/alerts/pull-failures", body=payload, headers=headers
    )
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert "Traceback" not in response.get_body().decode()
    assert sandbox.log.all() == []
