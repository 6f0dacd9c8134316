"""The audit, report, journal, status, plan/apply and metrics endpoints as the worker calls them,
over a demo sandbox with in-memory stores."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import azure.functions as func
import pytest

from sandbox import Sandbox
from shared import bootstrap
from shared.adapters.memory import MemoryJournal, MemoryPolicyStore, MemoryReportStore
from shared.domain.policies import Policy
from shared.observability import METRICS
from shared.services import Context
from tests.function_index import indexed_functions, invocation
from tests.integration.app_context import demo_settings, sandbox_context

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def ctx(sandbox: Sandbox) -> Iterator[Context]:
    policies = MemoryPolicyStore([Policy.from_dict(p) for p in sandbox.scenario.policies])
    context = replace(
        sandbox_context(
            sandbox, settings=demo_settings(), policies=policies, journal=MemoryJournal()
        ),
        reports=MemoryReportStore(),
    )
    bootstrap.configure(context=context)
    METRICS.reset()
    yield context
    bootstrap.reset()
    METRICS.reset()


def call(name: str, method: str, url: str, *, body: Any = None, route: dict[str, str] | None = None,
         params: dict[str, str] | None = None) -> func.HttpResponse:  # fmt: skip
    data = b"" if body is None else json.dumps(body).encode()
    request = func.HttpRequest(method, url, body=data, route_params=route or {},
                               params=params or {}, headers=JSON)  # fmt: skip
    response = indexed_functions()[name].get_user_function()(request, invocation(name))
    assert isinstance(response, func.HttpResponse)
    return response


def as_json(response: func.HttpResponse) -> Any:
    return json.loads(response.get_body())


def test_an_audit_over_http_is_kept_and_retrievable(ctx: Context, sandbox: Sandbox) -> None:
    assert call("latest_audit", "GET", "/api/audit/latest").status_code == 404
    response = call("run_audit", "POST", "/api/audit", body={})
    assert response.status_code == 200
    report = as_json(response)
    assert {f["kind"] for f in report["findings"]} >= {"access-denied", "secret-expiry"}
    assert as_json(call("latest_audit", "GET", "/api/audit/latest"))["id"] == report["id"]
    kept = call(
        "audit_report", "GET", f"/api/audit/reports/{report['id']}", route={"id": report["id"]}
    )
    assert as_json(kept)["counts"] == report["counts"]
    missing = call("audit_report", "GET", "/api/audit/reports/nope", route={"id": "<script>"})
    assert missing.status_code == 404
    assert missing.mimetype == "application/problem+json"
    assert sandbox.log.writes() == []  # AUTO_RECONCILE is off
    metrics = as_json(call("metrics", "GET", "/api/metrics"))
    assert metrics["latestAudit"]["id"] == report["id"]
    assert metrics["openFindings"]["error"] == report["counts"]["error"] == 3


def test_an_audit_of_one_registry_and_bad_bodies(ctx: Context) -> None:
    one = as_json(call("run_audit", "POST", "/api/audit", body={"registry": "fabrikamcache"}))
    assert one["registries"] == ["fabrikamcache"]
    assert call("run_audit", "POST", "/api/audit", body={"registry": "nowhere"}).status_code == 404
    assert call("run_audit", "POST", "/api/audit", body={"registery": "x"}).status_code == 400
    assert call("run_audit", "POST", "/api/audit", body=["x"]).status_code == 400


def test_auto_reconcile_applies_through_the_audit_unless_dry_run(sandbox: Sandbox) -> None:
    policies = MemoryPolicyStore([Policy.from_dict(p) for p in sandbox.scenario.policies])
    settings = demo_settings(AUTO_RECONCILE="true")
    context = replace(
        sandbox_context(sandbox, settings=settings, policies=policies), reports=MemoryReportStore()
    )
    bootstrap.configure(context=context)
    try:
        dry = as_json(call("run_audit", "POST", "/api/audit", params={"dry_run": "true"}))
        assert dry["outcomes"] == [] and sandbox.log.writes() == []
        applied = as_json(call("run_audit", "POST", "/api/audit"))
        # the repin of ghcr-acme; quay-io (access denied) is not refreshed in report mode
        assert applied["counts"]["applied"] == applied["counts"]["actions"] == 1
        journal = as_json(call("journal", "GET", "/api/journal", params={"limit": "10"}))
        assert {o["signalId"] for o in journal["outcomes"]} == {applied["id"]}
    finally:
        bootstrap.reset()


def test_journal_filters_by_time_and_validates_its_parameters(
    ctx: Context, sandbox: Sandbox
) -> None:
    plan = as_json(
        call(
            "plan",
            "POST",
            "/api/plan",
            body={"registry": "contosocache", "credentialSet": "ghcr-acme"},
        )
    )
    as_json(call("apply", "POST", "/api/apply", body={"registry": "contosocache", "credentialSet": "ghcr-acme", "planId": plan["planId"]}))  # fmt: skip
    everything = as_json(call("journal", "GET", "/api/journal"))
    assert len(everything["outcomes"]) == 2  # the update and the apply's closing outcome
    later = (sandbox.clock.now()).isoformat()
    sandbox.clock.advance(60)
    assert (
        as_json(call("journal", "GET", "/api/journal", params={"since": later}))["outcomes"] == []
    )
    for params in ({"limit": "0"}, {"limit": "-1"}, {"limit": "x"}, {"since": "yesterday"}):
        assert call("journal", "GET", "/api/journal", params=params).status_code == 400, params


def test_registry_status_shows_health_expiry_and_last_actions(ctx: Context) -> None:
    status = as_json(call("registry_status", "GET", "/api/registries/contosocache/status",
                          route={"registry": "contosocache"}))  # fmt: skip
    sets = {c["name"]: c for c in status["credentialSets"]}
    assert sets["quay-io"]["health"]["status"] == "Unhealthy"
    assert sets["quay-io"]["secrets"]["password"]["state"] == "expiring"
    assert sets["ghcr-acme"]["secrets"]["password"]["behind"] is True
    assert sets["dockerhub"]["usedBy"] == ["dockerhub-library"]
    assert [r["name"] for r in status["rules"]][:1] == ["dockerhub-library"]
    assert "value" not in json.dumps(status).lower().replace("newestvalidversion", "")
    missing = call("registry_status", "GET", "/api/registries/x/status", route={"registry": "x"})
    assert missing.status_code == 404


def test_plan_then_apply_then_the_same_id_is_stale_with_the_new_plan(
    ctx: Context, sandbox: Sandbox
) -> None:
    scope = {"registry": "contosocache", "credentialSet": "ghcr-acme"}
    plan = as_json(call("plan", "POST", "/api/plan", body=scope))
    assert [a["kind"] for a in plan["actions"]] == ["update-credential-set"]
    assert sandbox.log.writes() == []
    applied = call("apply", "POST", "/api/apply", body={**scope, "planId": plan["planId"]})
    assert applied.status_code == 200
    assert as_json(applied)["status"] == "applied"
    stale = call("apply", "POST", "/api/apply", body={**scope, "planId": plan["planId"]})
    assert stale.status_code == 409
    assert stale.mimetype == "application/problem+json"
    problem = as_json(stale)
    assert problem["code"] == "StalePlan"
    assert problem["plan"]["actions"] == [] and problem["plan"]["planId"] != plan["planId"]
    counted = as_json(call("metrics", "GET", "/api/metrics"))["actionsApplied"]
    assert counted == [{"action": "update-credential-set", "status": "succeeded", "count": 1}]


@pytest.mark.parametrize(
    ("name", "body"),
    [("plan", {"registry": 3}), ("plan", {"credentialSet": "x"}), ("apply", {}),
     ("apply", {"planId": ""}), ("apply", {"planId": "x", "extra": 1})],
)  # fmt: skip
def test_plan_and_apply_refuse_bad_bodies(ctx: Context, name: str, body: Any) -> None:
    response = call(name, "POST", f"/api/{name}", body=body)
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
