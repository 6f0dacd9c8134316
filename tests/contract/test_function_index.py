"""What the Functions host will index: names, triggers, routes, auth levels, schedules.

`app.get_functions()` is the library's own indexing, the same call the worker makes.
"""

from __future__ import annotations

from typing import Any

import azure.functions as func

import function_app
from tests.function_index import indexed_functions, invocation

EXPECTED = {
    # name: (trigger type, route or None, methods or None)
    "health": ("httpTrigger", "health", {"GET"}),
    "app_status": ("httpTrigger", "status", {"GET"}),
    "on_keyvault_event": ("eventGridTrigger", None, None),
    "sync_credential_set": ("httpTrigger", "credential-sets/{registry}/{name}/sync", {"POST"}),
    "credential_set_access": ("httpTrigger", "credential-sets/{registry}/{name}/access", {"GET"}),
    "declared_credential_sets": ("httpTrigger", "credential-sets/declared", {"GET", "PUT"}),
    "declared_credential_set": (
        "httpTrigger",
        "credential-sets/declared/{name}",
        {"GET", "PUT", "DELETE"},
    ),
    "on_pull_failure": ("eventGridTrigger", None, None),
    "pull_failure_alert": ("httpTrigger", "alerts/pull-failures", {"POST"}),
    "list_policies": ("httpTrigger", "policies", {"GET"}),
    "policy": ("httpTrigger", "policies/{id}", {"GET", "PUT", "DELETE"}),
    "import_policies": ("httpTrigger", "policies/import", {"POST"}),
    "export_policies": ("httpTrigger", "export/policies", {"GET"}),
    "test_policies": ("httpTrigger", "policies/test", {"POST"}),
    "list_pull_policies": ("httpTrigger", "pull-policies", {"GET"}),
    "pull_policy": ("httpTrigger", "pull-policies/{id}", {"PUT", "DELETE"}),
    "request_repository": ("httpTrigger", "repositories", {"POST"}),
    "on_repository_requested": ("eventGridTrigger", None, None),
    "on_registry_event": ("eventGridTrigger", None, None),
    "audit_timer": ("timerTrigger", None, None),
    "verification_timer": ("timerTrigger", None, None),
    "audit_registry": ("queueTrigger", None, None),
    "audit_poisoned": ("queueTrigger", None, None),
    "event_outbox_timer": ("timerTrigger", None, None),
    "run_audit": ("httpTrigger", "audit", {"POST"}),
    "latest_audit": ("httpTrigger", "audit/latest", {"GET"}),
    "audit_report": ("httpTrigger", "audit/reports/{id}", {"GET"}),
    "journal": ("httpTrigger", "journal", {"GET"}),
    "history": ("httpTrigger", "history", {"GET"}),
    "registry_status": ("httpTrigger", "registries/{registry}/status", {"GET"}),
    "plan": ("httpTrigger", "plan", {"POST"}),
    "apply": ("httpTrigger", "apply", {"POST"}),
    "metrics": ("httpTrigger", "metrics", {"GET"}),
    "dashboard": ("httpTrigger", "dashboard", {"GET"}),
    "api_docs": ("httpTrigger", "docs", {"GET"}),
    "openapi": ("httpTrigger", "openapi.json", {"GET"}),
}
ANONYMOUS_ALLOWED = {"health"}


def _triggers() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for name, function in indexed_functions().items():
        found[name] = function.get_trigger().get_dict_repr()
    return found


def test_the_app_exposes_exactly_the_expected_functions() -> None:
    assert set(_triggers()) == set(EXPECTED)


def test_triggers_routes_and_methods() -> None:
    for name, binding in _triggers().items():
        trigger_type, route, methods = EXPECTED[name]
        assert binding["type"] == trigger_type, name
        if trigger_type == "httpTrigger":
            assert binding["route"] == route, name
            assert {str(getattr(m, "value", m)).upper() for m in binding["methods"]} == methods, (
                name
            )


def test_admin_routes_require_a_function_key() -> None:
    for name, binding in _triggers().items():
        if binding["type"] != "httpTrigger":
            continue
        level = func.AuthLevel(binding["authLevel"])
        if name in ANONYMOUS_ALLOWED:
            assert level is func.AuthLevel.ANONYMOUS
        else:
            assert level in (func.AuthLevel.FUNCTION, func.AuthLevel.ADMIN), name


def test_there_is_exactly_one_function_app_for_the_worker_to_find() -> None:
    apps = [v for v in vars(function_app).values() if isinstance(v, func.FunctionApp)]
    assert len(apps) == 1


def test_anonymous_health_is_liveness_only() -> None:
    import json

    from shared import __version__
    from shared.bootstrap import settings

    response = indexed_functions()["health"].get_user_function()(
        func.HttpRequest(method="GET", url="/api/health", body=b""), invocation("health")
    )
    body = json.loads(response.get_body())
    assert response.status_code == 200
    assert body == {"status": "ok", "version": __version__}
    text = response.get_body().decode().lower()
    for detail in ("/subscriptions/", "resourcegroups", "registries", settings().mode):
        assert detail not in text


def test_keyed_status_reports_version_mode_and_registries_without_secrets() -> None:
    import json

    from shared import __version__
    from shared.bootstrap import settings

    response = indexed_functions()["app_status"].get_user_function()(
        func.HttpRequest(method="GET", url="/api/status", body=b""), invocation("app_status")
    )
    body = json.loads(response.get_body())
    assert response.status_code == 200
    assert body["version"] == __version__
    assert body["mode"] == settings().mode
    assert body["managedRegistries"] == [str(r) for r in settings().managed_registries]
    assert body["authentication"]["appServiceAuthentication"] is False
    assert "AccountKey" not in response.get_body().decode()
