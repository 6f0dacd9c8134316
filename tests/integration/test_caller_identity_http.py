"""Who made a change, and whether the app role is checked, depend on App Service authentication:
only when it fronts the app (APP_SERVICE_AUTHENTICATION) does the platform strip the caller's
`x-ms-client-principal*` headers and inject its own, so only then are they trusted."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from typing import Any

import azure.functions as func
import pytest

from sandbox import Sandbox
from shared import bootstrap
from tests.function_index import indexed_functions, invocation
from tests.integration.app_context import demo_settings, sandbox_context

FORGED_NAME = "ceo@contoso.example"


def principal(*roles: str) -> str:
    claims = [{"typ": "roles", "val": role} for role in roles]
    return base64.b64encode(json.dumps({"auth_typ": "aad", "claims": claims}).encode()).decode()


@pytest.fixture
def wire(sandbox: Sandbox) -> Iterator[Any]:
    def configure(**settings: str) -> None:
        bootstrap.configure(context=sandbox_context(sandbox, settings=demo_settings(**settings)))

    yield configure
    bootstrap.reset()


def call(name: str, method: str, *, body: Any = None, route: dict[str, str] | None = None,
         headers: dict[str, str] | None = None) -> func.HttpResponse:  # fmt: skip
    request = func.HttpRequest(method, f"/api/{name}", route_params=route or {},
                               body=b"" if body is None else json.dumps(body).encode(),
                               headers={"content-type": "application/json", **(headers or {})})  # fmt: skip
    response = indexed_functions()[name].get_user_function()(request, invocation(name))
    assert isinstance(response, func.HttpResponse)
    return response


def put_policy(sandbox: Sandbox, headers: dict[str, str]) -> func.HttpResponse:
    row = dict(sandbox.scenario.policies[0])
    return call("policy", "PUT", body=row, route={"id": row["id"]}, headers=headers)


def test_without_authentication_a_sent_principal_name_is_not_recorded(
    sandbox: Sandbox, wire: Any
) -> None:
    wire()
    headers = {"X-MS-CLIENT-PRINCIPAL-NAME": FORGED_NAME, "X-MS-CLIENT-PRINCIPAL": principal()}
    stored = put_policy(sandbox, headers)
    assert stored.status_code == 200, stored.get_body()
    assert json.loads(stored.get_body())["changedBy"] == "function key"


def test_with_authentication_the_injected_principal_name_is_recorded(
    sandbox: Sandbox, wire: Any
) -> None:
    wire(APP_SERVICE_AUTHENTICATION="true")
    headers = {
        "X-MS-CLIENT-PRINCIPAL-NAME": "ops@contoso.example",
        "X-MS-CLIENT-PRINCIPAL": principal("Cachekeeper.Admin"),
    }
    stored = put_policy(sandbox, headers)
    assert stored.status_code == 200, stored.get_body()
    assert json.loads(stored.get_body())["changedBy"] == "ops@contoso.example"
    keyed = put_policy(sandbox, {})  # a function-key caller through the same front door
    assert json.loads(keyed.get_body())["changedBy"] == "function key"


def test_the_app_role_is_checked_only_when_authentication_fronts_the_app(
    sandbox: Sandbox, wire: Any
) -> None:
    reader = {"X-MS-CLIENT-PRINCIPAL": principal("Cachekeeper.Reader")}
    wire(APP_SERVICE_AUTHENTICATION="true")
    assert put_policy(sandbox, reader).status_code == 403
    wire()  # without it the header is the caller's own word; the function key is the gate
    assert put_policy(sandbox, reader).status_code == 200


def test_an_app_role_without_authentication_is_a_start_up_warning_and_in_status(
    sandbox: Sandbox, wire: Any, caplog: pytest.LogCaptureFixture
) -> None:
    bootstrap.reset()
    for env, warned in (
        ({"ADMIN_APP_ROLE": "Ops.Writer"}, True),
        ({"ADMIN_APP_ROLE": "Ops.Writer", "APP_SERVICE_AUTHENTICATION": "true"}, False),
        ({}, False),
    ):
        bootstrap.reset()
        caplog.clear()
        with pytest.MonkeyPatch.context() as patch, caplog.at_level(logging.WARNING):
            for name in ("ADMIN_APP_ROLE", "APP_SERVICE_AUTHENTICATION"):
                patch.delenv(name, raising=False)
            patch.setenv("CACHEKEEPER_MODE", "sandbox")
            patch.setenv("MANAGED_REGISTRIES", str(demo_settings().managed_registries[0]))
            for name, value in env.items():
                patch.setenv(name, value)
            bootstrap.settings()
            status = json.loads(call("app_status", "GET").get_body())
        logged = [r.getMessage() for r in caplog.records if "ADMIN_APP_ROLE" in r.getMessage()]
        assert bool(logged) is warned, (env, logged)
        assert bool(status["warnings"]) is warned, (env, status)
        assert status["authentication"]["appServiceAuthentication"] is ("true" in env.values())
