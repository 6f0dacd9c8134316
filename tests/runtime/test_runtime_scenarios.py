"""The e2e scenarios under the real Python worker: rotation by event, pull-failure alert,
repository request, audit timer, admin routes and problem+json errors, against the sandbox."""

from __future__ import annotations

import json
from typing import Any

from sandbox.core import Sandbox
from tests.runtime.host import REPO_ROOT, FunctionsHost, Reply, succeeded
from tests.runtime.host_queues import deliver, output_messages

SUB = "00000000-0000-0000-0000-000000000001"
REGISTRIES = (
    f"/subscriptions/{SUB}/resourceGroups/rg-cache/providers/Microsoft.ContainerRegistry/registries"
)
CONTOSO, FABRIKAM = f"{REGISTRIES}/contosocache", f"{REGISTRIES}/fabrikamcache"
EVENTS = REPO_ROOT / "tests" / "events"
PROBLEM = "application/problem+json"


def writes(sandbox: Sandbox, method: str | None = None) -> list[str]:
    return [
        r.path.lower()
        for r in sandbox.requests_matching(".*", writes_only=True)
        if method is None or r.method == method
    ]


def assert_problem(reply: Reply, status: int) -> dict[str, Any]:
    assert reply.status == status, reply.body
    assert reply.headers["content-type"].startswith(PROBLEM)
    problem: dict[str, Any] = reply.json()
    assert problem["status"] == status
    return problem


def test_a_rotation_event_updates_both_registries_and_replays_change_nothing(
    host: FunctionsHost, sandbox: Sandbox
) -> None:
    rotated = sandbox.add_secret_version("kv-cache-rbac", "dockerhub-password")
    assert succeeded(host.event_grid("on_keyvault_event", rotated["eventGrid"]))
    assert sorted(writes(sandbox, "PATCH")) == sorted(
        f"{registry}/credentialSets/dockerhub".lower() for registry in (CONTOSO, FABRIKAM)
    )
    before = len(writes(sandbox))
    # Event Grid delivers at least once, and the same change may come in the other schema
    assert succeeded(host.event_grid("on_keyvault_event", rotated["eventGrid"]))
    assert succeeded(host.event_grid("on_keyvault_event", rotated["cloudEvent"]))
    assert len(writes(sandbox)) == before


def test_a_malformed_event_is_acknowledged_and_changes_nothing(
    host: FunctionsHost, sandbox: Sandbox
) -> None:
    # a failed invocation makes Event Grid redeliver: an event that can never succeed must not fail
    event = {
        "id": "malformed-runtime-1", "eventType": "Microsoft.KeyVault.SecretNewVersionCreated",
        "subject": "s", "eventTime": "2026-01-01T00:00:00Z", "dataVersion": "1",
        "data": {"unexpected": 1},
    }  # fmt: skip
    assert succeeded(host.event_grid("on_keyvault_event", event))
    assert writes(sandbox) == []


def _alert(repository: str, condition: str = "Fired") -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(
        (EVENTS / "azure-monitor.commonAlertSchema.logAlertsV2.json").read_text()
    )
    payload["data"]["essentials"]["monitorCondition"] = condition
    payload["data"]["essentials"]["alertTargetIDs"] = [CONTOSO.lower()]
    payload["data"]["alertContext"]["condition"]["allOf"][0]["dimensions"] = [
        {"name": "Repository", "value": repository},
        {"name": "ResultDescription", "value": "401"},
    ]
    return payload


def test_a_pull_failure_alert_is_diagnosed_with_the_fix_and_nothing_written(
    host: FunctionsHost, sandbox: Sandbox
) -> None:
    reply = host.http(
        "POST", "/api/alerts/pull-failures", json_body=_alert("quay/prometheus/prometheus")
    )
    assert reply.status == 202, reply.body
    (reaction,) = reply.json()["reactions"]
    assert reaction["status"] == "reported"
    fixes = [finding["fix"] for finding in reaction["plan"]["findings"]]
    assert fixes and all("az role assignment create" in fix for fix in fixes)
    access = host.http("GET", "/api/credential-sets/contosocache/quay-io/access")
    assert access.status == 200, access.body
    assert access.json()["health"] == "Unhealthy"
    resolved = _alert("quay/prometheus/prometheus", "Resolved")
    assert host.http("POST", "/api/alerts/pull-failures", json_body=resolved).status == 202
    assert_problem(host.http("POST", "/api/alerts/pull-failures", json_body={"schemaId": "x"}), 400)
    assert writes(sandbox) == []


def test_a_pull_failed_cloud_event_is_handled(host: FunctionsHost) -> None:
    event = {
        "specversion": "1.0", "id": "pf-runtime-1", "source": "/cachekeeper/runtime",
        "type": "cachekeeper.PullFailed", "time": "2026-11-23T10:00:00Z",
        "data": {"registry": CONTOSO, "repository": "dockerhub/library/nginx", "tag": "1.27", "status": 500},
    }  # fmt: skip
    assert succeeded(host.event_grid("on_pull_failure", event))


def test_a_repository_request_gets_exactly_one_rule_and_a_denied_one_none(
    host: FunctionsHost, sandbox: Sandbox
) -> None:
    request = {"upstream": "docker.io/library/alpine", "registry": "fabrikamcache"}
    tested = host.http("POST", "/api/policies/test", json_body={"upstream": request["upstream"]})
    assert tested.status == 200, tested.body
    planned = host.http("POST", "/api/repositories?dry_run=true", json_body=request)
    assert planned.status == 200, planned.body
    (action,) = planned.json()["plan"]["actions"]
    assert writes(sandbox, "PUT") == []

    created = host.http("POST", "/api/repositories", json_body=request)
    assert created.status == 201, created.body
    (outcome,) = created.json()["outcomes"]
    assert outcome["resource"] == action["resource"]
    assert outcome["after"]["targetRepository"] == "dockerhub/library/alpine"
    rule_puts = [p for p in writes(sandbox, "PUT") if "/cacherules/" in p]
    assert len(rule_puts) == 1

    again = host.http("POST", "/api/repositories", json_body=request)
    assert again.status == 200
    assert again.json()["status"] == "no-change"
    denied = {"upstream": "docker.io/bitnami/redis", "registry": "fabrikamcache"}
    refused = host.http("POST", "/api/repositories", json_body=denied)
    assert refused.status == 422, refused.body
    assert "dockerhub-deny-rest" in refused.json()["reason"]
    assert [p for p in writes(sandbox, "PUT") if "/cacherules/" in p] == rule_puts


def test_a_repository_requested_cloud_event_is_decided_by_the_policy_table(
    host: FunctionsHost,
) -> None:
    event = {
        "specversion": "1.0", "id": "rr-runtime-1", "source": "/cachekeeper/runtime",
        "type": "cachekeeper.RepositoryRequested", "time": "2026-11-23T10:00:00Z",
        "data": {"registry": CONTOSO, "upstream": "docker.io/library/busybox"},
    }  # fmt: skip
    assert succeeded(host.event_grid("on_repository_requested", event))


def test_registry_events_in_both_schemas_are_handled(host: FunctionsHost) -> None:
    for name in ("ImagePushed.eventgrid", "ImageDeleted.cloudevents"):
        event = json.loads((EVENTS / f"containerregistry.{name}.json").read_text())
        assert succeeded(host.event_grid("on_registry_event", event)), name


def test_the_audit_timer_fans_out_and_the_queue_audits_assemble_a_report(
    host: FunctionsHost,
) -> None:
    tick = host.timer("audit_timer")
    assert succeeded(tick)
    work = output_messages(tick, "work")  # the queue output binding: one item per registry
    assert [json.loads(m)["registry"].rsplit("/", 1)[-1] for m in work] == [
        "contosocache", "fabrikamcache",
    ]  # fmt: skip
    assert succeeded(host.timer("verification_timer", past_due=True))
    for message in work:
        assert succeeded(deliver(host, "audit_registry", message))
    assert succeeded(host.timer("event_outbox_timer"))
    latest = host.http("GET", "/api/audit/latest")
    assert latest.status == 200, latest.body
    report = latest.json()
    by_id = host.http("GET", f"/api/audit/reports/{report['id']}")
    assert by_id.status == 200, by_id.body
    assert by_id.json()["id"] == report["id"]
    assert_problem(host.http("GET", "/api/audit/reports/no-such-report"), 404)
    assert report["complete"] is True and report["registries"] == ["contosocache", "fabrikamcache"]


def test_a_poisoned_work_item_is_reported_missing_through_the_runtime(host: FunctionsHost) -> None:
    work = output_messages(host.timer("audit_timer"), "work")
    assert succeeded(deliver(host, "audit_registry", work[0]))
    # the host moved the second item to the poison queue after maxDequeueCount failures
    assert succeeded(deliver(host, "audit_poisoned", work[1], dequeue_count=1))
    report = host.http("GET", "/api/audit/latest").json()
    assert report["complete"] is False
    assert [m["status"] for m in report["missing"]] == ["poisoned"]
    # a work item nobody can read is acknowledged (the host deletes it), not retried
    assert succeeded(deliver(host, "audit_registry", "not a work item", dequeue_count=1))


def test_the_admin_routes_answer_through_the_runtime(host: FunctionsHost) -> None:
    gets = [
        "/api/health", "/api/status", "/api/openapi.json", "/api/dashboard", "/api/metrics", "/api/journal",
        "/api/history", "/api/docs",
        "/api/policies", "/api/export/policies", "/api/registries/contosocache/status",
        "/api/credential-sets/contosocache/dockerhub/access",
    ]  # fmt: skip
    for path in gets:
        reply = host.http("GET", path)
        assert reply.status == 200, (path, reply.body[:500])
    policies = host.http("GET", "/api/policies").json()
    rows = policies["policies"] if isinstance(policies, dict) else policies
    first = host.http("GET", f"/api/policies/{rows[0]['id']}")
    assert first.status == 200, first.body
    exported = host.http("GET", "/api/export/policies")
    imported = host.http(
        "POST", "/api/policies/import?dry_run=true", body=exported.body,
        headers={"Content-Type": exported.headers.get("content-type", "application/json")},
    )  # fmt: skip
    assert imported.status == 200, imported.body
    assert imported.json()["dryRun"] is True
    planned = host.http("POST", "/api/plan", json_body={})
    assert planned.status == 200, planned.body
    assert planned.json()["actions"]
    assert_problem(host.http("POST", "/api/apply", json_body={}), 400)  # no planId
    applied = host.http("POST", "/api/apply", json_body={"planId": planned.json()["planId"]})
    assert applied.status == 200, applied.body
    stale = host.http("POST", "/api/apply", json_body={"planId": planned.json()["planId"]})
    assert_problem(stale, 409)  # applied: state moved, the plan is stale
    sync = host.http("POST", "/api/credential-sets/contosocache/ghcr-acme/sync?dry_run=true")
    assert sync.status == 200, sync.body
    assert sync.json()["status"] == "planned"
    audit = host.http("POST", "/api/audit")
    assert audit.status == 200, audit.body
    assert audit.json()["findings"]


def test_pull_rows_are_kept_and_refused_through_the_runtime(host: FunctionsHost) -> None:
    kubelet = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
    row = {"principalId": kubelet, "registry": "contosocache", "description": "aks kubelet"}
    stored = host.http("PUT", "/api/pull-policies/aks-kubelet", json_body=row)
    assert stored.status == 200, stored.body
    listed = host.http("GET", "/api/pull-policies").json()["pullPolicies"]
    assert [r["id"] for r in listed] == ["aks-kubelet"]
    push = host.http("PUT", "/api/pull-policies/push", json_body={**row, "role": "AcrPush"})
    assert_problem(push, 400)  # never a role with push rights
    assert host.http("DELETE", "/api/pull-policies/aks-kubelet").status in (200, 204)
    assert host.http("GET", "/api/pull-policies").json()["pullPolicies"] == []


def test_a_declared_credential_set_is_kept_planned_and_forgotten_through_the_runtime(
    host: FunctionsHost,
) -> None:
    kv = "https://kv-cache-rbac.vault.azure.net/secrets"
    body = {"loginServer": "quay.io", "username": f"{kv}/quay-username",
            "password": f"{kv}/quay-password", "registries": ["contosocache"]}  # fmt: skip
    stored = host.http("PUT", "/api/credential-sets/declared/quay-mirror", json_body=body)
    assert stored.status == 200, stored.body
    listed = host.http("GET", "/api/credential-sets/declared").json()["credentialSets"]
    assert [d["name"] for d in listed] == ["quay-mirror"]
    scope = {"registry": "contosocache", "credentialSet": "quay-mirror"}
    planned = host.http("POST", "/api/plan", json_body=scope).json()
    assert [a["kind"] for a in planned["actions"]] == ["create-credential-set"]
    assert_problem(host.http("PUT", "/api/credential-sets/declared/quay-mirror",
                             json_body={**body, "loginServer": "mcr.microsoft.com"}), 400)  # fmt: skip
    assert host.http("DELETE", "/api/credential-sets/declared/quay-mirror").status == 204
    assert_problem(host.http("GET", "/api/credential-sets/declared/quay-mirror"), 404)


def test_errors_are_problem_json_and_keys_are_required(host: FunctionsHost) -> None:
    assert_problem(host.http("POST", "/api/credential-sets/contosocache/no-such-set/sync"), 404)
    bad_json = host.http(
        "POST", "/api/repositories", body=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert_problem(bad_json, 400)  # the content type is JSON, the body is malformed
    assert_problem(host.http("POST", "/api/repositories", json_body={"upstream": 7}), 400)
    assert_problem(host.http("DELETE", "/api/policies/no-such-policy"), 404)
    assert host.http("GET", "/api/journal", key=None).status == 401
    assert host.http("GET", "/api/health", key=None).status == 200
    assert host.http("GET", "/api/status", key=None).status == 401
