"""The puller side of pull failures end to end: the app under the local host (embedded demo
sandbox, Azurite journal), driven over HTTP as Event Grid, Azure Monitor and operators call it.

A client pulls from the sandbox's data plane (`/_sandbox/registries/{r}/pull`), the sandbox
refuses it and logs the row ACR would log; the test turns that row into the `cachekeeper.PullFailed`
CloudEvent (or the log alert) a forwarder would send, and checks what the app records and, in fix
mode, that its grant really makes the same pull succeed in the sandbox."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tests.e2e.host_process import REPO_ROOT, HostProcess, demo_host
from tests.e2e.test_reactions_e2e import CONTOSO, JSON, alert, post, writes

KUBELET = "7f3c2b1a-4d5e-4f60-8a9b-0c1d2e3f4a5b"  # an AKS kubelet's managed identity
OTHER_KUBELET = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
CACHED = "dockerhub/library/nginx"  # served by rule dockerhub-library, credential set Healthy
CLOUD_EVENT = {"Content-Type": "application/cloudevents+json", "aeg-event-type": "Notification"}
ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
REPOSITORY_READER = "b93aa761-3e63-49ed-ac28-beffa264f7ac"  # Container Registry Repository Reader
FABRIKAM = CONTOSO.replace("contosocache", "fabrikamcache")
PULL_FAILED_SCHEMA = Draft202012Validator(
    json.loads((REPO_ROOT / "docs" / "events" / "cachekeeper.PullFailed.schema.json").read_text())
)


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostProcess]:
    with demo_host(tmp_path_factory.mktemp("puller-report")) as process:
        yield process


@pytest.fixture(scope="module")
def fix_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostProcess]:
    with demo_host(tmp_path_factory.mktemp("puller-fix"), REMEDIATION_MODE="fix") as process:
        yield process


def sandbox_pull(
    host: HostProcess, registry: str = "contosocache", repository: str = CACHED, **who: Any
) -> int:
    reply = post(host, f"/_sandbox/registries/{registry}/pull", {"repository": repository, **who})
    assert reply.status == 200, reply.body
    status: int = reply.json()["status"]
    return status


def logged_pull(
    host: HostProcess, identity: str, table: str = "ContainerRegistryRepositoryEvents"
) -> dict[str, Any]:
    """The newest row of `table` for `identity` (what ACR logs: a refused manifest request, or
    in ContainerRegistryLoginEvents a refused login)."""
    reply = host.request("GET", f"/_sandbox/pullLog?table={table}")  # every registry's rows
    assert reply.status == 200, reply.body
    rows = reply.json()
    rows = rows.get("rows", rows) if isinstance(rows, dict) else rows
    mine = [r for r in rows if str(r.get("Identity", "")).lower() == identity.lower()]
    assert mine, rows
    row: dict[str, Any] = mine[-1]
    return row


def pull_failed(row: dict[str, Any], kind: str, event_id: str) -> dict[str, Any]:
    """The CloudEvent a forwarder builds from one logged pull (valid by docs/events/' schema)."""
    event = {
        "specversion": "1.0", "id": event_id, "source": "/cachekeeper/e2e/forwarder",
        "type": "cachekeeper.PullFailed", "time": str(row["TimeGenerated"]),
        "datacontenttype": "application/json",
        "data": {
            "registry": row["_ResourceId"], "repository": row.get("Repository") or CACHED, "tag": row.get("Tag") or None,
            "status": int(str(row["ResultDescription"])[:3]),
            "identity": {"kind": kind, "id": row["Identity"]},
        },
    }  # fmt: skip
    PULL_FAILED_SCHEMA.validate(event)
    return event


def deliver(host: HostProcess, event: dict[str, Any]) -> None:
    reply = post(
        host, "/runtime/webhooks/EventGrid?functionName=on_pull_failure", event, CLOUD_EVENT
    )
    assert reply.status == 202, host.output()[-3000:]


def findings_for(host: HostProcess, identity: str) -> list[dict[str, Any]]:
    reply = host.request("GET", "/api/journal?limit=1000")
    assert reply.status == 200, reply.body
    return [
        f
        for f in reply.json()["findings"]
        if f["kind"] == "puller-cannot-pull"
        and str((f.get("evidence") or {}).get("identity", {}).get("id", "")).lower()
        == identity.lower()
    ]


def advance(host: HostProcess, seconds: float) -> None:
    assert post(host, "/_sandbox/clock", {"advanceSeconds": seconds}).status == 200


def puller_alert(identity: str, alert_id: str) -> dict[str, Any]:
    """The log alert on ContainerRegistryRepositoryEvents with the identity ACR logged as a
    dimension (docs/operations.md: the query projects `Identity`)."""
    payload = alert(CACHED)
    payload["data"]["essentials"]["alertId"] += f"-{alert_id}"
    payload["data"]["alertContext"]["condition"]["allOf"][0]["dimensions"] = [
        {"name": "Repository", "value": CACHED},
        {"name": "Status", "value": "401"},
        {"name": "Identity", "value": identity},
    ]
    return payload


def alert_findings(host: HostProcess, payload: dict[str, Any]) -> list[dict[str, Any]]:
    reply = post(host, "/api/alerts/pull-failures", payload, JSON)
    assert reply.status == 202, reply.body
    (reaction,) = reply.json()["reactions"]
    findings: list[dict[str, Any]] = [
        f for f in reaction["plan"]["findings"] if f["kind"] == "puller-cannot-pull"
    ]
    return findings


def test_a_kubelet_without_acrpull_is_diagnosed_from_the_event_and_the_alert(
    host: HostProcess,
) -> None:
    advance(host, 0)  # pin the sandbox clock
    assert sandbox_pull(host, principalId=KUBELET) == 401
    row = logged_pull(host, KUBELET)
    assert row["_ResourceId"].lower() == CONTOSO.lower()
    assert row["Repository"] == CACHED and str(row["ResultDescription"]).startswith("401")

    host.request("DELETE", "/_sandbox/requests")
    deliver(host, pull_failed(row, "entra", "pf-kubelet-1"))
    (finding,) = findings_for(host, KUBELET)
    assert KUBELET in finding["message"]
    assert finding["evidence"]["missing"] == "Microsoft.ContainerRegistry/registries/pull/read"
    assert finding["evidence"]["scope"].lower() == CONTOSO.lower()
    fix = finding["fix"]
    assert "az role assignment create" in fix and KUBELET in fix
    assert "--role AcrPull" in fix and f"--scope {CONTOSO}".lower() in fix.lower()
    assert "no pull row" in finding["message"]
    assert writes(host) == []

    # the same failure through the log alert, its Identity dimension naming the kubelet
    advance(host, 301)  # past the coalescing window of the event's diagnosis
    reply = post(host, "/api/alerts/pull-failures", puller_alert(KUBELET, "kubelet"), JSON)
    assert reply.status == 202, reply.body
    (reaction,) = reply.json()["reactions"]
    assert reaction["status"] == "reported", reaction
    (from_alert,) = [f for f in reaction["plan"]["findings"] if f["kind"] == "puller-cannot-pull"]
    assert from_alert["evidence"]["identity"] == {"kind": "entra", "id": KUBELET}
    assert "--role AcrPull" in from_alert["fix"]
    assert len(findings_for(host, KUBELET)) == 2
    assert writes(host) == []
    assert sandbox_pull(host, principalId=KUBELET) == 401  # report mode changed nothing


def assignment(write: dict[str, Any]) -> dict[str, Any]:
    """The properties of a role-assignment PUT in the sandbox's write log."""
    body = write["body"] if isinstance(write["body"], dict) else json.loads(write["body"])
    properties: dict[str, Any] = body["properties"]
    return properties


def role_assignment_puts(host: HostProcess) -> list[dict[str, Any]]:
    return [
        w
        for w in writes(host)
        if w["method"] == "PUT"
        and "/providers/microsoft.authorization/roleassignments/" in w["path"].lower()
    ]


def test_fix_mode_grants_acrpull_for_a_pull_row_and_the_pull_then_succeeds(
    fix_host: HostProcess,
) -> None:
    host = fix_host
    advance(host, 0)
    row = {"registry": "contosocache", "principalId": KUBELET, "description": "AKS prod kubelet"}
    stored = host.request(
        "PUT", "/api/pull-policies/aks-prod-kubelet", body=json.dumps(row).encode(), headers=JSON
    )
    assert stored.status == 200, stored.body

    assert sandbox_pull(host, principalId=KUBELET) == 401
    advance(host, 301)  # a new failure, past the coalescing window
    host.request("DELETE", "/_sandbox/requests")
    event = pull_failed(logged_pull(host, KUBELET), "entra", "pf-fix-kubelet-1")
    deliver(host, event)

    (grant,) = role_assignment_puts(host)
    assert grant["path"].lower().startswith(CONTOSO.lower() + "/providers/microsoft.authorization/")
    properties = assignment(grant)
    assert properties["roleDefinitionId"].lower().endswith(ACR_PULL)
    assert properties["principalId"].lower() == KUBELET
    assert not properties.get("condition")
    assert [w["method"] for w in writes(host)] == ["PUT"]  # the grant and nothing else
    (finding,) = findings_for(host, KUBELET)
    assert "aks-prod-kubelet" in finding["message"]
    journal = host.request("GET", "/api/journal?limit=1000").json()["outcomes"]
    (granted,) = [o for o in journal if o["action"] == "grant-pull"]
    assert granted["status"] == "pending-verification", granted  # RBAC has not applied it yet
    assert granted["after"]["role"] == ACR_PULL and granted["signalId"] == "pf-fix-kubelet-1"
    assert granted["after"]["scope"].lower() == CONTOSO.lower()
    assert granted["resource"].lower() == CONTOSO.lower()

    deliver(host, event)  # Event Grid delivers at least once: the replay grants nothing more
    assert len(role_assignment_puts(host)) == 1

    assert sandbox_pull(host, principalId=KUBELET) == 401  # RBAC has not applied it yet
    advance(host, 121)  # past the tier's RBAC delay (120 s)
    assert sandbox_pull(host, principalId=KUBELET) == 200
    run_verification_timer(host)  # the read-back agrees, but Azure promises only "10 minutes"
    assert grant_pull_statuses(host, "pf-fix-kubelet-1") == ["pending-verification"]
    advance(host, 480)  # past RBAC's propagation window (10 minutes since the grant)
    run_verification_timer(host)
    assert grant_pull_statuses(host, "pf-fix-kubelet-1") == ["pending-verification", "succeeded"]


def run_verification_timer(host: HostProcess) -> None:
    reply = host.request("POST", "/admin/functions/verification_timer", body=b"{}",
                         headers={"Content-Type": "application/json"})  # fmt: skip
    assert reply.status == 202, host.output()[-2000:]


def grant_pull_statuses(host: HostProcess, signal_id: str) -> list[str]:
    """The journaled statuses of the signal's grant-pull, oldest first."""
    outcomes = host.request("GET", "/api/journal?limit=1000").json()["outcomes"]
    mine = [o for o in outcomes if o["action"] == "grant-pull" and o["signalId"] == signal_id]
    return [o["status"] for o in sorted(mine, key=lambda o: str(o["at"]))]


def test_fix_mode_grants_nothing_to_an_identity_no_pull_row_names(fix_host: HostProcess) -> None:
    host = fix_host
    advance(host, 0)
    assert sandbox_pull(host, principalId=OTHER_KUBELET) == 401
    host.request("DELETE", "/_sandbox/requests")
    deliver(host, pull_failed(logged_pull(host, OTHER_KUBELET), "entra", "pf-fix-other-1"))
    assert writes(host) == []
    (finding,) = findings_for(host, OTHER_KUBELET)
    assert f"no pull row of the policy table names {OTHER_KUBELET}" in finding["message"]
    assert "grants nothing" in finding["message"]
    assert "--role AcrPull" in finding["fix"]
    advance(host, 121)
    assert sandbox_pull(host, principalId=OTHER_KUBELET) == 401


def test_a_token_without_the_repository_in_its_scope_map_is_reported_only(
    fix_host: HostProcess,
) -> None:
    host = fix_host
    advance(host, 0)
    made = post(
        host, "/_sandbox/registries/contosocache/tokens",
        {"name": "ci-team-a", "actions": ["repositories/team-a/*/content/read"]},
    )  # fmt: skip
    assert made.status == 201, made.body
    password = made.json()["password"]
    assert sandbox_pull(host, token="ci-team-a", password=password) in (401, 403)
    row = logged_pull(host, "ci-team-a")

    host.request("DELETE", "/_sandbox/requests")
    deliver(host, pull_failed(row, "token", "pf-token-1"))
    assert writes(host) == []  # fix mode, and still nothing written
    (finding,) = findings_for(host, "ci-team-a")
    assert finding["evidence"]["identity"] == {"kind": "token", "id": "ci-team-a"}
    assert finding["evidence"]["missing"] == f"repositories/{CACHED}/content/read"
    assert "report only" in finding["message"]
    assert finding["fix"] == (
        "az acr scope-map update -n ci-team-a-scope-map -r contosocache"
        f" --add-repository {CACHED} content/read"
    )
    assert "az role assignment create" not in finding["fix"]

    advance(host, 301)  # the same failure through the log alert: its Identity is the token name
    (from_alert,) = alert_findings(host, puller_alert("ci-team-a", "token"))
    assert from_alert["evidence"]["identity"] == {"kind": "token", "id": "ci-team-a"}
    assert from_alert["fix"] == finding["fix"]
    assert writes(host) == []


def test_the_disabled_admin_user_is_reported_and_never_enabled(fix_host: HostProcess) -> None:
    host = fix_host
    advance(host, 0)
    assert sandbox_pull(host, admin=True) == 401  # the admin user is disabled, as by default
    row = logged_pull(host, "contosocache", "ContainerRegistryLoginEvents")  # refused at login
    assert row["OperationName"] == "Login" and row["ResultDescription"] == "401"

    host.request("DELETE", "/_sandbox/requests")
    deliver(host, pull_failed(row, "admin-user", "pf-admin-1"))
    assert writes(host) == []
    (finding,) = findings_for(host, "contosocache")
    assert finding["evidence"]["identity"] == {"kind": "admin-user", "id": "contosocache"}
    assert "report only" in finding["message"]
    assert "disabled" in finding["message"] and "cachekeeper never enables it" in finding["message"]
    assert finding["evidence"]["missing"] == "adminUserEnabled"
    assert "instead of the admin user" in finding["fix"]

    advance(host, 301)  # through the log alert: ACR logs the admin user as the registry name
    (from_alert,) = alert_findings(host, puller_alert("contosocache", "admin"))
    assert from_alert["evidence"]["identity"] == {"kind": "admin-user", "id": "contosocache"}
    assert writes(host) == []
    assert sandbox_pull(host, admin=True) == 401  # still disabled: nothing enabled it


PIPELINE = "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f"  # a pipeline's service principal


def diagnosed(host: HostProcess, event: dict[str, Any]) -> list[dict[str, Any]]:
    """The findings the delivery of `event` recorded: those at or after a fresh sandbox-clock
    second (the app's clock is the sandbox's; rows of one moment have no order)."""
    moved = post(host, "/_sandbox/clock", {"advanceSeconds": 1})
    assert moved.status == 200, moved.body
    since = urllib.parse.quote(moved.json()["now"])
    deliver(host, event)
    reply = host.request("GET", f"/api/journal?limit=1000&since={since}")
    assert reply.status == 200, reply.body
    findings: list[dict[str, Any]] = reply.json()["findings"]
    return findings


def test_a_credential_set_failure_is_still_diagnosed_and_both_causes_are_reported(
    host: HostProcess,
) -> None:
    advance(host, 301)  # past every earlier diagnosis's coalescing window
    state = host.request("GET", "/_sandbox/state").json()
    (contoso,) = [r for r in state["registries"] if r["name"] == "contosocache"]
    (dockerhub,) = [c for c in contoso["credentialSets"] if c["name"] == "dockerhub"]
    removed = host.request(
        "DELETE", f"/_sandbox/roleAssignments?principalId={dockerhub['principalId']}"
    )
    assert removed.status == 200 and removed.json()["removed"] == 2, removed.body
    granted = post(
        host, "/_sandbox/roleAssignments",
        {"principalId": PIPELINE, "role": "AcrPull", "scope": CONTOSO, "principalType": "ServicePrincipal"},
    )  # fmt: skip
    assert granted.status == 201, granted.body
    advance(host, 121)  # past the RBAC delay: the removal and the grant both count now

    # the pipeline may pull, but the rule's credential set cannot read its secrets
    assert sandbox_pull(host, principalId=PIPELINE) == 401
    host.request("DELETE", "/_sandbox/requests")
    cred_side = diagnosed(host, pull_failed(logged_pull(host, PIPELINE), "entra", "pf-cred-1"))
    assert sorted(f["kind"] for f in cred_side) == ["access-denied"] * 2, cred_side
    assert sorted(f["evidence"]["secret"].rsplit("/", 1)[1] for f in cred_side) == [
        "dockerhub-password", "dockerhub-username",
    ]  # fmt: skip
    assert all("az role assignment create" in f["fix"] for f in cred_side)
    assert all(dockerhub["principalId"] in f["fix"] for f in cred_side)
    assert findings_for(host, PIPELINE) == []
    assert writes(host) == []

    # the kubelet without AcrPull pulls the same repository: both sides are at fault
    assert sandbox_pull(host, principalId=KUBELET) == 401
    both = diagnosed(host, pull_failed(logged_pull(host, KUBELET), "entra", "pf-both-1"))
    assert sorted(f["kind"] for f in both) == ["access-denied"] * 2 + ["puller-cannot-pull"]
    (puller_side,) = [f for f in both if f["kind"] == "puller-cannot-pull"]
    assert puller_side["evidence"]["identity"] == {"kind": "entra", "id": KUBELET}
    assert "--role AcrPull" in puller_side["fix"]
    assert writes(host) == []


ABAC_KUBELET = "9e8d7c6b-5a4f-4e3d-9c2b-1a0f9e8d7c6b"


def test_in_abac_mode_the_grant_is_the_repository_reader_on_that_repository(
    fix_host: HostProcess,
) -> None:
    host = fix_host
    advance(host, 0)
    switched = post(
        host, "/_sandbox/registries/fabrikamcache/roleAssignmentMode",
        {"mode": "AbacRepositoryPermissions"},
    )  # fmt: skip
    assert switched.status == 200, switched.body
    # AcrPull at the registry: not honoured by a registry with ABAC repository permissions
    acr_pull = {"principalId": ABAC_KUBELET, "role": "AcrPull", "scope": FABRIKAM}
    assert post(host, "/_sandbox/roleAssignments", acr_pull).status == 201
    row = {"registry": "fabrikamcache", "repository": CACHED, "principalId": ABAC_KUBELET}
    stored = host.request(
        "PUT", "/api/pull-policies/aks-abac-nginx", body=json.dumps(row).encode(), headers=JSON
    )
    assert stored.status == 200, stored.body
    advance(host, 121)
    assert sandbox_pull(host, "fabrikamcache", principalId=ABAC_KUBELET) == 401

    host.request("DELETE", "/_sandbox/requests")
    deliver(host, pull_failed(logged_pull(host, ABAC_KUBELET), "entra", "pf-abac-1"))
    (grant,) = role_assignment_puts(host)
    assert (
        grant["path"].lower().startswith(FABRIKAM.lower() + "/providers/microsoft.authorization/")
    )
    properties = assignment(grant)
    assert properties["roleDefinitionId"].lower().endswith(REPOSITORY_READER)
    assert properties["principalId"].lower() == ABAC_KUBELET
    assert f"StringEqualsIgnoreCase '{CACHED}'" in properties["condition"]
    assert len(writes(host)) == 1

    advance(host, 121)
    assert sandbox_pull(host, "fabrikamcache", principalId=ABAC_KUBELET) == 200
    # the condition limits the grant to that repository
    other = "dockerhub/library/redis"
    assert sandbox_pull(host, "fabrikamcache", other, principalId=ABAC_KUBELET) == 401
    advance(host, 480)  # past RBAC's propagation window: the conditioned grant reads back as made
    run_verification_timer(host)
    assert grant_pull_statuses(host, "pf-abac-1") == ["pending-verification", "succeeded"]


SPN_KUBELET = "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e"


def test_a_row_by_service_principal_name_prefix_grants_nothing_and_the_finding_says_why(
    fix_host: HostProcess,
) -> None:
    host = fix_host
    advance(host, 0)
    row = {"registry": "contosocache", "servicePrincipalNamePrefix": "aks-prod-"}
    stored = host.request(
        "PUT", "/api/pull-policies/aks-prod-by-name", body=json.dumps(row).encode(), headers=JSON
    )
    assert stored.status == 200, stored.body
    assert sandbox_pull(host, principalId=SPN_KUBELET) == 401
    host.request("DELETE", "/_sandbox/requests")
    deliver(host, pull_failed(logged_pull(host, SPN_KUBELET), "entra", "pf-spn-1"))
    assert writes(host) == []
    (finding,) = findings_for(host, SPN_KUBELET)
    assert f"no pull row of the policy table names {SPN_KUBELET}" in finding["message"]
    assert "servicePrincipalNamePrefix are not matched" in finding["message"]
    assert "name it by principalId" in finding["message"]


BOTH_KUBELET = "4d5e6f7a-8b9c-4d0e-8f1a-2b3c4d5e6f7a"
QUAY = "quay/prometheus/prometheus"  # rule quay-prometheus; its credential set has no grant


def test_fix_mode_repairs_both_sides_and_the_pull_then_succeeds(fix_host: HostProcess) -> None:
    host = fix_host
    advance(host, 0)
    row = {"registry": "contosocache", "principalId": BOTH_KUBELET}
    stored = host.request(
        "PUT", "/api/pull-policies/aks-both", body=json.dumps(row).encode(), headers=JSON
    )
    assert stored.status == 200, stored.body
    assert sandbox_pull(host, repository=QUAY, principalId=BOTH_KUBELET) == 401
    logged = logged_pull(host, BOTH_KUBELET)
    assert logged["Repository"] == QUAY

    host.request("DELETE", "/_sandbox/requests")
    found = diagnosed(host, pull_failed(logged, "entra", "pf-both-fix-1"))
    assert {"access-denied", "puller-cannot-pull"} <= {f["kind"] for f in found}, found
    granted = [assignment(p) for p in role_assignment_puts(host)]
    by_role = sorted(
        (g["roleDefinitionId"].rsplit("/", 1)[1], g["principalId"].lower()) for g in granted
    )
    assert (ACR_PULL, BOTH_KUBELET) in by_role and len(by_role) == 3, by_role  # + one per secret
    assert all(
        g["principalId"].lower() != BOTH_KUBELET
        for g in granted
        if not g["roleDefinitionId"].endswith(ACR_PULL)
    )

    assert sandbox_pull(host, repository=QUAY, principalId=BOTH_KUBELET) == 401
    advance(host, 121)  # past the RBAC delay: both grants count
    assert sandbox_pull(host, repository=QUAY, principalId=BOTH_KUBELET) == 200
