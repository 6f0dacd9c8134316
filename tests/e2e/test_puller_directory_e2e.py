"""Pull rows by service-principal name prefix end to end: the app under the local host with
DIRECTORY_LOOKUP on reads the puller from the sandbox's Microsoft Graph, grants AcrPull in fix
mode to the kubelet managed identity a prefix row names (the sandbox pull then succeeds after
the RBAC delay), and grants nothing when the directory cannot be read, saying why."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.e2e.host_process import HostProcess, demo_host
from tests.e2e.test_puller_e2e import (
    ACR_PULL,
    CONTOSO,
    advance,
    assignment,
    deliver,
    findings_for,
    logged_pull,
    pull_failed,
    role_assignment_puts,
    sandbox_pull,
)
from tests.e2e.test_reactions_e2e import JSON, post, writes

AKS_PROD = "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e"  # the demo directory: aks-prod-agentpool
AKS_WESTEU = "3c4d5e6f-7a8b-4c9d-8e0f-2a3b4c5d6e7f"  # aks-prod-westeu-agentpool


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostProcess]:
    with demo_host(
        tmp_path_factory.mktemp("puller-directory"), REMEDIATION_MODE="fix",
        DIRECTORY_LOOKUP="true",
    ) as process:  # fmt: skip
        row = {"registry": "contosocache", "servicePrincipalNamePrefix": "aks-prod-"}
        stored = process.request(
            "PUT", "/api/pull-policies/aks-prod-by-name", body=json.dumps(row).encode(),
            headers=JSON,
        )  # fmt: skip
        assert stored.status == 200, stored.body
        yield process


def test_a_prefix_row_grants_acrpull_to_the_kubelet_the_directory_names(host: HostProcess) -> None:
    advance(host, 0)
    assert sandbox_pull(host, principalId=AKS_PROD) == 401
    host.request("DELETE", "/_sandbox/requests")
    deliver(host, pull_failed(logged_pull(host, AKS_PROD), "entra", "pf-dir-1"))
    (grant,) = role_assignment_puts(host)
    assert grant["path"].lower().startswith(CONTOSO.lower() + "/providers/microsoft.authorization/")
    properties = assignment(grant)
    assert properties["roleDefinitionId"].lower().endswith(ACR_PULL)
    assert properties["principalId"].lower() == AKS_PROD and not properties.get("condition")
    (finding,) = findings_for(host, AKS_PROD)
    assert "aks-prod-by-name" in finding["message"] and "'aks-prod-agentpool'" in finding["message"]
    assert finding["evidence"]["directory"]["servicePrincipalType"] == "ManagedIdentity"
    assert sandbox_pull(host, principalId=AKS_PROD) == 401  # RBAC has not applied it yet
    advance(host, 121)
    assert sandbox_pull(host, principalId=AKS_PROD) == 200


def test_an_unreadable_directory_grants_nothing_and_the_finding_says_why(host: HostProcess) -> None:
    advance(host, 0)
    denied = post(host, "/_sandbox/pullOptions", {"directoryReadable": False})
    assert denied.status == 200 and denied.json()["directoryReadable"] is False, denied.body
    try:
        assert sandbox_pull(host, principalId=AKS_WESTEU) == 401
        host.request("DELETE", "/_sandbox/requests")
        deliver(host, pull_failed(logged_pull(host, AKS_WESTEU), "entra", "pf-dir-2"))
        assert writes(host) == []
        (finding,) = findings_for(host, AKS_WESTEU)
        message = finding["message"]
        assert "servicePrincipalNamePrefix are not matched" in message
        assert "Authorization_RequestDenied" in message and "Application.Read.All" in message
        assert "grants nothing" in message
        advance(host, 121)
        assert sandbox_pull(host, principalId=AKS_WESTEU) == 401
    finally:
        post(host, "/_sandbox/pullOptions", {"directoryReadable": True})
