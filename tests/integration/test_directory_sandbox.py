"""Pull rows by service-principal name prefix through the real Graph adapter (azure-core's
pipeline) against the sandbox's directory: a kubelet managed identity the directory names is
granted AcrPull in fix mode; an unreadable directory, an unknown id and a Legacy principal are
granted nothing and the finding says why."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox import Sandbox
from shared.adapters.azure import AzureClients, GraphDirectory
from shared.adapters.memory import MemoryJournal, MemoryPolicyStore
from shared.domain.ids import ResourceId
from shared.domain.pull_policies import PullPolicy
from shared.domain.pullers import ACR_PULL, Puller, PullerKind
from shared.domain.repositories import TargetPath
from shared.errors import AccessDeniedError, InvalidInputError, NotFoundError
from shared.services import Context, ReactionStatus
from shared.services.reactions import dispatch
from shared.signals.pull_failures import PULL_FAILED, PullFailure
from tests.integration.app_context import REGISTRIES, demo_settings, sandbox_context

CONTOSO = ResourceId.parse(REGISTRIES["contosocache"])
AKS_PROD = "3c4d5e6f-7a8b-4c9d-8e0f-2a3b4c5d6e7f"  # aks-prod-westeu-agentpool, ManagedIdentity
LEGACY = "4e5f6a7b-8c9d-4e0f-9a1b-2c3d4e5f6a7b"  # aks-prod-legacy-connector, Legacy
UNKNOWN = "5f6a7b8c-9d0e-4f1a-8b2c-3d4e5f6a7b8c"
ROW = PullPolicy("aks-prod", registry="contosocache", spn_prefix="aks-prod-")
NGINX = "dockerhub/library/nginx"


def directory(sandbox: Sandbox) -> GraphDirectory:
    return GraphDirectory(AzureClients(sandbox.credential(), transport=sandbox.transport()))


def context(sandbox: Sandbox, **settings: str) -> Context:
    policies = MemoryPolicyStore()
    policies.put_pull_policy(ROW)
    return sandbox_context(
        sandbox, settings=demo_settings(REMEDIATION_MODE="fix", **settings), policies=policies,
        journal=MemoryJournal(),
    )  # fmt: skip


def puller_findings(ctx: Context, principal: str, signal: str) -> tuple[ReactionStatus, Any]:
    failure = PullFailure(
        CONTOSO, TargetPath.parse(NGINX), 401, puller=Puller(PullerKind.ENTRA, principal)
    )
    status = dispatch(ctx, PULL_FAILED, failure, signal_id=signal).status
    journal = ctx.journal
    assert isinstance(journal, MemoryJournal)
    (finding,) = [f for _, _, f in journal.finding_log if f.kind == "puller-cannot-pull"]
    return status, finding


def test_the_adapter_reads_a_managed_identity_and_graphs_errors(sandbox: Sandbox) -> None:
    graph = directory(sandbox)
    found = graph.service_principal(AKS_PROD.upper())
    assert found.id == AKS_PROD and found.type == "ManagedIdentity"
    assert found.display_name == "aks-prod-westeu-agentpool" and found.names == (found.app_id,)
    (request,) = sandbox.log.matching(host="graph.microsoft.com")
    assert request.method == "GET" and request.path.endswith(f"/servicePrincipals/{AKS_PROD}")
    with pytest.raises(NotFoundError, match="Request_ResourceNotFound"):
        graph.service_principal(UNKNOWN)
    with pytest.raises(InvalidInputError):
        graph.service_principal("not-a-guid")
    sandbox.set_pull_options(directory_readable=False)
    with pytest.raises(AccessDeniedError, match="Authorization_RequestDenied"):
        graph.service_principal(AKS_PROD)


def test_fix_mode_grants_acrpull_to_the_managed_identity_a_prefix_row_names(
    sandbox: Sandbox,
) -> None:
    ctx = context(sandbox, DIRECTORY_LOOKUP="true")
    status, finding = puller_findings(ctx, AKS_PROD, "pf-name-1")
    assert status is ReactionStatus.APPLIED
    (grant,) = sandbox.role_assignments_for(AKS_PROD)
    assert grant.role_definition_guid == ACR_PULL and grant.scope.lower() == str(CONTOSO).lower()
    assert "'aks-prod-westeu-agentpool'" in finding.message
    assert finding.evidence["directory"]["servicePrincipalType"] == "ManagedIdentity"


@pytest.mark.parametrize(
    ("principal", "readable", "says"),
    [(AKS_PROD, False, "Authorization_RequestDenied"),
     (UNKNOWN, True, "Request_ResourceNotFound"),
     (LEGACY, True, "type Legacy")],
)  # fmt: skip
def test_nothing_is_granted_when_the_directory_cannot_name_a_grantable_principal(
    sandbox: Sandbox, principal: str, readable: bool, says: str
) -> None:
    sandbox.set_pull_options(directory_readable=readable)
    ctx = context(sandbox, DIRECTORY_LOOKUP="true")
    status, finding = puller_findings(ctx, principal, "pf-name-2")
    assert status is ReactionStatus.REPORTED
    assert sandbox.role_assignments_for(principal) == [] and sandbox.log.writes() == []
    assert says in finding.message and "grants nothing" in finding.message


def test_with_lookups_off_the_directory_is_never_read(sandbox: Sandbox) -> None:
    ctx = context(sandbox)
    status, finding = puller_findings(ctx, AKS_PROD, "pf-name-3")
    assert status is ReactionStatus.REPORTED and sandbox.role_assignments_for(AKS_PROD) == []
    assert "DIRECTORY_LOOKUP" in finding.message
    assert not sandbox.log.matching(host="graph.microsoft.com")
