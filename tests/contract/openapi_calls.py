"""One real call of every JSON route of the app, in-process through the indexed functions over
the demo sandbox: what `test_openapi_responses.py` validates against the served schemas."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import azure.functions as func
import yaml

from sandbox import Sandbox, wiring
from shared import bootstrap
from shared.adapters.memory import MemoryJournal, MemoryPolicyStore, MemoryReportStore
from tests.conftest import load_event
from tests.function_index import indexed_functions, invocation
from tests.integration.app_context import REGISTRIES, demo_settings
from tests.integration.conftest import DEMO, INSTANT

__all__ = ["Call", "every_route_called"]

Call = tuple[str, str, str, func.HttpResponse]  # function, method, route, response
POLICY = {"upstream": "docker.io/library/busybox", "action": "allow",
          "registry": "fabrikamcache", "targetTemplate": "dockerhub/library/{path}",
          "credentialSet": "dockerhub"}  # fmt: skip


_KV = "https://kv-cache-rbac.vault.azure.net/secrets"
_DECLARED = {"loginServer": "quay.io", "username": f"{_KV}/quay-username",
             "password": f"{_KV}/quay-password", "registries": ["contosocache"]}  # fmt: skip


def _call(name: str, method: str, route: str, body: Any = None, *,
          params: dict[str, str] | None = None, path: dict[str, str] | None = None) -> Call:  # fmt: skip
    data = b"" if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"} if body is not None else {}
    request = func.HttpRequest(method, f"/api/{route}", body=data, route_params=path or {},
                               params=params or {}, headers=headers)  # fmt: skip
    response = indexed_functions()[name].get_user_function()(request, invocation(name))
    assert isinstance(response, func.HttpResponse)
    assert response.status_code < 300, (name, response.get_body()[:2000])
    return name, method, route, response


def _alert() -> dict[str, Any]:
    payload = load_event("azure-monitor.commonAlertSchema.logAlertsV2.json")
    assert isinstance(payload, dict)
    payload["data"]["essentials"]["alertTargetIDs"] = [REGISTRIES["contosocache"]]
    payload["data"]["alertContext"]["condition"]["allOf"][0]["dimensions"] = [
        {"name": "Repository", "value": "quay/prometheus/prometheus"},
        {"name": "Status", "value": "401"},
    ]
    return payload


def every_route_called() -> Iterator[Call]:
    """Each JSON route answered once (in an order where each finds what it reads)."""
    sandbox = Sandbox(yaml.safe_load(DEMO.read_text()), page_size=2, **INSTANT)
    context = wiring.sandbox_context(
        sandbox, demo_settings(), policies=MemoryPolicyStore(), journal=MemoryJournal(),
        reports=MemoryReportStore(), sleep_scale=0,
    )  # fmt: skip
    bootstrap.configure(context=context)
    try:
        yield from _calls()
    finally:
        bootstrap.reset()


def _calls() -> Iterator[Call]:
    yield _call("health", "GET", "health")
    yield _call("app_status", "GET", "status")
    yield _call("openapi", "GET", "openapi.json")
    yield _call("policy", "PUT", "policies/{id}", POLICY, path={"id": "busybox"})
    yield _call("policy", "GET", "policies/{id}", path={"id": "busybox"})
    yield _call("list_policies", "GET", "policies")
    yield _call("export_policies", "GET", "export/policies")
    yield _call("import_policies", "POST", "policies/import",
                {"version": 1, "policies": [dict(POLICY, id="busybox")]}, params={"dry_run": "true"})  # fmt: skip
    yield _call("test_policies", "POST", "policies/test", {"upstream": "docker.io/library/busybox"})
    yield _call("pull_policy", "PUT", "pull-policies/{id}",
                {"principalId": "11111111-2222-3333-4444-555555555555", "registry": "contosocache"},
                path={"id": "aks"})  # fmt: skip
    yield _call("list_pull_policies", "GET", "pull-policies")
    audited = _call("run_audit", "POST", "audit", {})
    yield audited
    report_id = json.loads(audited[3].get_body())["id"]
    yield _call("latest_audit", "GET", "audit/latest")
    yield _call("audit_report", "GET", "audit/reports/{id}", path={"id": report_id})
    yield _call("registry_status", "GET", "registries/{registry}/status", path={"registry": "contosocache"})  # fmt: skip
    yield _call("credential_set_access", "GET", "credential-sets/{registry}/{name}/access",
                path={"registry": "contosocache", "name": "quay-io"})  # fmt: skip
    yield _call("sync_credential_set", "POST", "credential-sets/{registry}/{name}/sync",
                path={"registry": "contosocache", "name": "ghcr-acme"})  # fmt: skip
    yield _call("declared_credential_set", "PUT", "credential-sets/declared/{name}", _DECLARED,
                path={"name": "quay-mirror"})  # fmt: skip
    yield _call("declared_credential_set", "GET", "credential-sets/declared/{name}",
                path={"name": "quay-mirror"})  # fmt: skip
    yield _call("declared_credential_sets", "GET", "credential-sets/declared")
    yield _call("declared_credential_sets", "PUT", "credential-sets/declared",
                {"version": 1, "credentialSets": [{**_DECLARED, "name": "quay-mirror"}]},
                params={"dry_run": "true"})  # fmt: skip
    planned = _call("plan", "POST", "plan", {"registry": "contosocache"})
    yield planned
    plan_id = json.loads(planned[3].get_body())["planId"]
    yield _call("apply", "POST", "apply", {"registry": "contosocache", "planId": plan_id})
    yield _call("request_repository", "POST", "repositories",
                {"upstream": "docker.io/library/busybox", "registry": "fabrikamcache"},
                params={"dry_run": "true"})  # fmt: skip
    yield _call("request_repository", "POST", "repositories",
                {"upstream": "docker.io/library/busybox", "registry": "fabrikamcache"})  # fmt: skip
    yield _call("pull_failure_alert", "POST", "alerts/pull-failures", _alert())
    yield _call("journal", "GET", "journal")
    yield _call("history", "GET", "history")
    yield _call("metrics", "GET", "metrics")
