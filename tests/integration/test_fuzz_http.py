"""Property-based fuzzing of every admin route as the worker calls it, over a sandbox: bodies
nested past any limit, integers of thousands of digits, lone surrogates, newlines and look-alikes
in values and path parameters. Whatever arrives: never a 5xx, every error is problem+json, and a
success is JSON that can be written. (schemathesis drives the same routes from the OpenAPI
document on the local host: tests/e2e/test_security_http_e2e.py.)"""

from __future__ import annotations

import json
import os
from typing import Any

import azure.functions as func
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from functions import blueprints
from functions._routes import Operation, operations
from sandbox import Sandbox
from shared import bootstrap
from tests.function_index import indexed_functions, invocation
from tests.integration.app_context import demo_settings, sandbox_context
from tests.unit.test_fuzz_parsers import HOSTILE_DOCUMENTS, HOSTILE_TEXT, JSON

EXAMPLES = {"ci": 150, "soak": 1500}[os.environ.get("CACHEKEEPER_FUZZ", "ci")]
ROUTES = [op for op in operations(blueprints()) if op.function != "dashboard"]
PATH_VALUES = st.sampled_from(["contosocache", "ghcr-acme", "mcr-all", "aks"]) | HOSTILE_TEXT
BODY_FIELDS = ["registry", "upstream", "target", "credentialSet", "repository", "planId", "id",
               "priority", "policies", "schemaId", "data"]  # fmt: skip


def _text(document: Any) -> bytes:
    try:
        return json.dumps(document).encode()  # lone surrogates become \\udXXX escapes
    except (RecursionError, ValueError):
        return b"[" * 3000


BODIES = st.one_of(
    JSON.map(_text),
    st.dictionaries(st.sampled_from(BODY_FIELDS), JSON | HOSTILE_TEXT, max_size=4).map(_text),
    HOSTILE_DOCUMENTS.map(str.encode),
    st.binary(max_size=64),
)


def _concrete(operation: Operation, values: list[str]) -> dict[str, str]:
    names = [part[1:-1] for part in operation.route.split("/") if part.startswith("{")]
    return dict(zip(names, values, strict=False))


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    operation=st.sampled_from(ROUTES),
    values=st.lists(PATH_VALUES, min_size=2, max_size=2),
    body=BODIES,
    dry_run=st.sampled_from(["true", "false", "yes\n"]),
)
def test_no_input_gets_a_server_error(
    sandbox: Sandbox, operation: Operation, values: list[str], body: bytes, dry_run: str
) -> None:
    bootstrap.configure(context=sandbox_context(sandbox, settings=demo_settings()))
    try:
        request = func.HttpRequest(
            operation.method, f"/api/{operation.route}",
            body=body if operation.op.request else b"",
            route_params=_concrete(operation, values), params={"dry_run": dry_run},
            headers={"content-type": "application/json"},
        )  # fmt: skip
        user_function = indexed_functions()[operation.function].get_user_function()
        response = user_function(request, invocation(operation.function))
    finally:
        bootstrap.reset()
    assert response.status_code < 500, response.get_body()[:300]
    if response.status_code >= 400:
        assert response.mimetype == "application/problem+json"
        assert json.loads(response.get_body())["status"] == response.status_code
    elif response.mimetype == "application/json":
        json.loads(response.get_body())
