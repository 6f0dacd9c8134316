"""Hostile input on every admin route, as the worker calls the indexed functions, over a sandbox:
deep nesting, huge numbers, lone surrogates and malformed JSON are 400 problem+json, a newline in
a path parameter (`%0A`) is refused before anything is read or written, and refusals of a
repository request are problem+json too."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import azure.functions as func
import pytest

from functions import blueprints
from functions._http import principal_roles
from functions._routes import operations
from sandbox import Sandbox
from shared import bootstrap
from tests.function_index import indexed_functions, invocation
from tests.integration.app_context import demo_settings, sandbox_context

ROUTE_VALUES = {"registry": "contosocache", "name": "ghcr-acme", "id": "mcr-all"}
BODY_ROUTES = sorted(
    {(op.function, op.method, op.route) for op in operations(blueprints()) if op.op.request}
)
HOSTILE_BODIES = {
    "nested 5,000 deep": b"[" * 5000 + b"]" * 5000,
    "nested in an object": b'{"registry": ' + b'{"a": ' * 200 + b"1" + b"}" * 200 + b"}",
    "an integer of 5,000 digits": b'{"registry": ' + b"9" * 5000 + b"}",
    "an integer of 101 digits": b'{"priority": ' + b"9" * 101 + b"}",
    "1e400": b'{"priority": 1e400}',
    "NaN": b'{"priority": NaN}',
    "a lone surrogate": b'{"registry": "contosocache", "description": "\\ud800"}',
    "malformed": b"{not json",
    "not UTF-8": b'{"registry": "\xff"}',
}


@pytest.fixture(autouse=True)
def wired(sandbox: Sandbox) -> Iterator[None]:
    bootstrap.configure(context=sandbox_context(sandbox, settings=demo_settings()))
    yield
    bootstrap.reset()


def call(name: str, method: str, *, body: bytes = b"", route: dict[str, str] | None = None,
         headers: dict[str, str] | None = None) -> func.HttpResponse:  # fmt: skip
    request = func.HttpRequest(method, f"/api/{name}", body=body, route_params=route or {},
                               headers=headers or {"content-type": "application/json"})  # fmt: skip
    response = indexed_functions()[name].get_user_function()(request, invocation(name))
    assert isinstance(response, func.HttpResponse)
    return response


def problem(response: func.HttpResponse, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_body()[:300]
    assert response.mimetype == "application/problem+json"
    body: dict[str, Any] = json.loads(response.get_body())
    assert body["status"] == status and body["type"] == "about:blank"
    return body


def route_params(route: str) -> dict[str, str]:
    return {k: v for k, v in ROUTE_VALUES.items() if "{" + k + "}" in route}


def test_every_route_with_a_body_is_attacked() -> None:
    names = {function for function, _, _ in BODY_ROUTES}
    assert {"request_repository", "policy", "import_policies", "plan", "apply"} <= names


@pytest.mark.parametrize("case", sorted(HOSTILE_BODIES))
@pytest.mark.parametrize(("function", "method", "route"), BODY_ROUTES)
def test_a_hostile_body_is_a_400_problem_and_changes_nothing(
    sandbox: Sandbox, function: str, method: str, route: str, case: str
) -> None:
    before = call("export_policies", "GET").get_body()
    response = call(function, method, body=HOSTILE_BODIES[case], route=route_params(route))
    assert problem(response, 400)["code"] == "InvalidDocument"
    assert sandbox.log.writes() == []
    assert call("export_policies", "GET").get_body() == before


@pytest.mark.parametrize(
    ("function", "method", "route"),
    [
        ("sync_credential_set", "POST", {"registry": "contosocache", "name": "ghcr-acme\n"}),
        ("credential_set_access", "GET", {"registry": "contosocache", "name": "ghcr-acme\n"}),
        ("sync_credential_set", "POST", {"registry": "contosocache\n", "name": "ghcr-acme"}),
    ],
)
def test_a_newline_in_a_path_parameter_is_refused_before_anything_is_read_or_written(
    sandbox: Sandbox, function: str, method: str, route: dict[str, str]
) -> None:
    sandbox.log.clear()
    response = call(function, method, route=route)
    assert response.status_code in (400, 404), response.get_body()[:300]
    problem(response, response.status_code)
    assert sandbox.log.writes() == []
    assert [r for r in sandbox.log.all() if "credentialSets" in r.path] == []


def test_a_refused_repository_request_is_problem_json_with_the_reason() -> None:
    denied = json.dumps({"upstream": "docker.io/bitnami/redis", "registry": "fabrikamcache"})
    body = problem(call("request_repository", "POST", body=denied.encode()), 422)
    assert body["code"] == "PolicyViolation" and body["result"] == "rejected"
    assert "docker.io/bitnami/redis" in body["reason"] and body["detail"] == body["reason"]
    assert body["plan"] is not None  # the reaction rides along


def test_a_request_for_an_unmanaged_registry_is_a_403_problem(sandbox: Sandbox) -> None:
    other = "/subscriptions/00000000-0000-0000-0000-000000000009/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/othercache"
    ask = json.dumps({"upstream": "docker.io/library/nginx", "registry": other}).encode()
    body = problem(call("request_repository", "POST", body=ask), 403)
    assert (body["code"], body["result"]) == ("OutOfScope", "ignored")
    assert sandbox.log.writes() == []


@pytest.mark.parametrize(
    "document", [b"[" * 5000 + b"]" * 5000, b'{"claims": ' + b"9" * 5000 + b"}"]
)
def test_an_unreadable_client_principal_header_has_no_roles(document: bytes) -> None:
    assert principal_roles(base64.b64encode(document).decode()) is None
