"""openapi.json describes exactly the HTTP routes the worker indexes, with their auth levels; the
audit timer is bound as the issue says.

Routes are declared once (`@admin_route`), which records each operation; these tests check the
recorded operations and the document against the worker's own index, so a route registered
without `@admin_route`, or recorded on a blueprint the app does not register, fails."""

from __future__ import annotations

import json
import re

import azure.functions as func

from functions import blueprints
from functions._routes import operations
from functions.openapi import ROUTE_PREFIX, openapi_document
from tests.function_index import indexed_functions, invocation


def _http_functions() -> set[tuple[str, str, str]]:
    found = set()
    for name, function in indexed_functions().items():
        binding = function.get_trigger().get_dict_repr()
        if binding["type"] != "httpTrigger":
            continue
        for method in binding["methods"]:
            found.add((name, str(getattr(method, "value", method)).upper(), binding["route"]))
    return found


def test_every_indexed_http_function_has_an_operation_and_every_operation_is_indexed() -> None:
    indexed = _http_functions()
    recorded = {(op.function, op.method, op.route) for op in operations(blueprints())}
    assert indexed - recorded == set(), "indexed but not described"
    assert recorded - indexed == set(), "described but not indexed"


def test_the_document_has_every_route_and_method_once_with_unique_operation_ids() -> None:
    document = openapi_document()
    in_document = {
        (operation["operationId"].rsplit("_", 1)[0], method.upper(), path.removeprefix(ROUTE_PREFIX + "/"))
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    }  # fmt: skip
    assert in_document == _http_functions()
    ids = [op["operationId"] for methods in document["paths"].values() for op in methods.values()]
    assert len(ids) == len(set(ids))


def test_path_parameters_are_declared_for_every_template_segment() -> None:
    for path, methods in openapi_document()["paths"].items():
        wanted = set(re.findall(r"{(\w+)}", path))
        for operation in methods.values():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == wanted, path


def test_only_health_is_anonymous_in_the_document_as_in_the_index() -> None:
    anonymous = {
        path
        for path, methods in openapi_document()["paths"].items()
        for operation in methods.values()
        if operation.get("security") == []
    }
    assert anonymous == {f"{ROUTE_PREFIX}/health"}
    for op in operations(blueprints()):
        binding = indexed_functions()[op.function].get_trigger().get_dict_repr()
        level = func.AuthLevel(binding["authLevel"])
        assert (level is func.AuthLevel.ANONYMOUS) == op.anonymous, op.function


def test_the_endpoint_serves_the_document_as_json() -> None:
    handler = indexed_functions()["openapi"].get_user_function()
    response = handler(
        func.HttpRequest("GET", "/api/openapi.json", body=b""), invocation("openapi")
    )
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    document = json.loads(response.get_body())
    assert document["openapi"].startswith("3.0")
    assert document["components"]["securitySchemes"]["functionKey"]["name"] == "x-functions-key"


def test_the_audit_timer_runs_on_the_configured_schedule_with_the_monitor() -> None:
    binding = indexed_functions()["audit_timer"].get_trigger().get_dict_repr()
    assert binding["type"] == "timerTrigger"
    assert binding["schedule"] == "%AUDIT_SCHEDULE%"
    assert binding["runOnStartup"] is False
    assert binding["useMonitor"] is True


def test_the_dashboard_is_self_contained_and_locked_down_by_csp() -> None:
    response = indexed_functions()["dashboard"].get_user_function()(
        func.HttpRequest("GET", "/api/dashboard", body=b""), invocation("dashboard")
    )
    html = response.get_body().decode()
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert not re.search(r"(src|href)=[\"']?(https?:)?//", html)  # no CDN, nothing external
    assert "innerHTML" not in html and "insertAdjacentHTML" not in html and "eval(" not in html
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "unsafe-inline" not in policy
    assert re.search(r"script-src 'sha256-[A-Za-z0-9+/=]+'", policy)
