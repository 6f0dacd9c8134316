"""What the real worker reports to the host (FunctionMetadataResponse) against what the function
index contract and the OpenAPI document say: triggers, routes, methods, auth levels, schedules."""

from __future__ import annotations

import json
import sys
from importlib.metadata import version

from tests.contract.test_function_index import ANONYMOUS_ALLOWED, EXPECTED
from tests.runtime.host import REPO_ROOT, FunctionsHost

SCHEDULES = {"audit_timer": "%AUDIT_SCHEDULE%"}  # an app setting, resolved by the host


def test_the_tier_runs_on_python_3_13_under_the_worker_azure_loads_for_it() -> None:
    assert sys.version_info[:2] == (3, 13)
    assert version("azure-functions-runtime").split(".")[0] == "1"
    assert version("azure-functions").split(".")[0] == "2"  # the 3.13-only major


def test_the_worker_indexes_exactly_the_expected_functions_worker_indexed(
    host: FunctionsHost,
) -> None:
    assert set(host.functions) == set(EXPECTED)
    for function in host.functions.values():
        assert function.metadata.properties["worker_indexed"] == "True", function.name
        assert function.metadata.language == "python"
        assert function.metadata.script_file.endswith("function_app.py"), function.name


def test_triggers_routes_and_methods_match_the_function_index_contract(
    host: FunctionsHost,
) -> None:
    for name, function in host.functions.items():
        trigger_type, route, methods = EXPECTED[name]
        trigger = function.trigger
        assert trigger["type"] == trigger_type, name
        assert trigger["direction"] == "IN", name
        if trigger_type == "httpTrigger":
            assert trigger["route"] == route, name
            assert {m.upper() for m in trigger["methods"]} == methods, name
            outputs = [b for b in function.bindings if b["direction"] == "OUT"]
            assert [(b["type"], b["name"]) for b in outputs] == [("http", "$return")], name


def test_auth_levels_anonymous_only_where_allowed(host: FunctionsHost) -> None:
    for name, function in host.functions.items():
        trigger = function.trigger
        if trigger["type"] != "httpTrigger":
            continue
        level = trigger["authLevel"].upper()
        assert level == ("ANONYMOUS" if name in ANONYMOUS_ALLOWED else "FUNCTION"), name


def test_timer_schedules_are_what_the_docs_and_settings_say(host: FunctionsHost) -> None:
    timers = {
        n: f.trigger for n, f in host.functions.items() if f.trigger["type"] == "timerTrigger"
    }
    assert set(timers) == {"audit_timer", "verification_timer", "event_outbox_timer"}
    assert timers["audit_timer"]["schedule"] == SCHEDULES["audit_timer"]
    for name, trigger in timers.items():
        assert trigger["runOnStartup"] is False, name
        assert trigger["useMonitor"] is True, name
    # the setting the host resolves %AUDIT_SCHEDULE% from: locally and in the deployment
    example = json.loads((REPO_ROOT / "local.settings.example.json").read_text())["Values"]
    assert example["AUDIT_SCHEDULE"]
    bicep = "".join(path.read_text() for path in (REPO_ROOT / "infra").rglob("*.bicep"))
    assert "AUDIT_SCHEDULE" in bicep


def test_the_openapi_document_served_by_the_runtime_describes_every_http_function(
    host: FunctionsHost,
) -> None:
    reply = host.http("GET", "/api/openapi.json")
    assert reply.status == 200, reply.body
    document = reply.json()
    described = {
        (path.removeprefix("/api/"), method.upper()): operation
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    }
    indexed = {
        (function.trigger["route"], method.upper()): function
        for function in host.functions.values()
        if function.trigger["type"] == "httpTrigger"
        for method in function.trigger["methods"]
    }
    assert set(described) == set(indexed)
    for key, function in indexed.items():
        operation = described[key]
        anonymous = function.trigger["authLevel"].upper() == "ANONYMOUS"
        assert (operation.get("security") == []) == anonymous, key
        path_params = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
        route_params = {s[1:-1] for s in key[0].split("/") if s.startswith("{")}
        assert path_params == route_params, key
