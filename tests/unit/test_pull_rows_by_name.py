"""Pull rows by service-principal name prefix, with the in-memory directory: a row matches only
a service principal or managed identity whose displayName or servicePrincipalNames begin with
its prefix; when the directory cannot tell, nothing is granted and the finding says why."""

from __future__ import annotations

from dataclasses import replace

import pytest

from shared.adapters.memory import MemoryDirectory, MemoryJournal
from shared.domain.directory import DirectoryAnswer, ServicePrincipal
from shared.domain.pull_policies import PullPolicy, pull_policy_for
from shared.domain.pullers import ACR_PULL, Puller, PullerKind
from shared.services import Context, ReactionStatus
from tests.unit.test_puller_repair import KUBELET, REPO, fail, make

AKS = ServicePrincipal(
    KUBELET, "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0", "aks-prod-agentpool",
    ("0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0", "https://identity.azure.net/abc="),
    "ManagedIdentity",
)  # fmt: skip
ROW = PullPolicy("aks-prod", registry="contosocache", spn_prefix="AKS-prod-")


def with_directory(mode: str, directory: MemoryDirectory, *rows: PullPolicy) -> Context:
    ctx, _, _ = make(mode, *rows)
    return replace(ctx, directory=directory)


def grants(ctx: Context) -> list[object]:
    return list(ctx.access.grants)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("prefix", "matches"),
    [("aks-prod-", True), ("AKS-PROD-agent", True), ("https://identity.azure.net/", True),
     ("0f1e2d3c", True), ("aks-dev-", False), ("agentpool", False)],
)  # fmt: skip
def test_a_prefix_matches_the_display_name_or_a_service_principal_name(
    prefix: str, matches: bool
) -> None:
    row = PullPolicy("r", spn_prefix=prefix)
    found = pull_policy_for(
        [row], principal_id=KUBELET.upper(), principal=AKS, registry_name="contosocache",
        repository=REPO,
    )  # fmt: skip
    assert (found == row) is matches


@pytest.mark.parametrize("kind", ["Legacy", "SocialIdp", "Unknown"])
def test_a_prefix_never_matches_a_principal_that_is_not_an_application_or_managed_identity(
    kind: str,
) -> None:
    legacy = replace(AKS, type=kind)
    assert legacy.name_matching("aks-prod-") is None
    assert pull_policy_for([ROW], principal_id=KUBELET, principal=legacy,
                           registry_name="contosocache", repository=REPO) is None  # fmt: skip
    why = DirectoryAnswer(legacy).why_no_prefix_matches(KUBELET)
    assert f"type {kind}" in why


def test_a_prefix_row_does_not_match_a_principal_described_under_another_id() -> None:
    other = replace(AKS, id="1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d")
    assert pull_policy_for([ROW], principal_id=KUBELET, principal=other,
                           registry_name="contosocache", repository=REPO) is None  # fmt: skip


def test_graph_json_is_read_strictly() -> None:
    data = {"id": KUBELET.upper(), "appId": AKS.app_id, "displayName": "aks-prod-agentpool",
            "servicePrincipalNames": list(AKS.names), "servicePrincipalType": "ManagedIdentity"}  # fmt: skip
    assert ServicePrincipal.from_graph(data) == AKS
    for broken in ({**data, "id": None}, {**data, "servicePrincipalNames": "x"}, {}):
        with pytest.raises(ValueError, match="must be"):
            ServicePrincipal.from_graph(broken)


def test_fix_mode_grants_acrpull_to_a_managed_identity_a_prefix_row_names() -> None:
    directory = MemoryDirectory(AKS)
    ctx = with_directory("fix", directory, ROW)
    status, (finding,) = fail(ctx, Puller(PullerKind.ENTRA, KUBELET))
    assert status is ReactionStatus.APPLIED
    (grant,) = grants(ctx)
    assert grant.role_definition_id == ACR_PULL  # type: ignore[attr-defined]
    assert "'aks-prod-agentpool'" in finding.message and "pull row aks-prod" in finding.message
    assert finding.evidence["directory"]["servicePrincipalType"] == "ManagedIdentity"
    assert directory.reads == [KUBELET]


def test_report_mode_says_the_row_would_grant_and_changes_nothing() -> None:
    ctx = with_directory("report", MemoryDirectory(AKS), ROW)
    status, (finding,) = fail(ctx, Puller(PullerKind.ENTRA, KUBELET))
    assert status is ReactionStatus.REPORTED and grants(ctx) == []
    assert "report mode changes nothing" in finding.message


@pytest.mark.parametrize(
    ("directory", "says"),
    [(MemoryDirectory(AKS, readable=False), "Authorization_RequestDenied"),
     (MemoryDirectory(), "has no service principal"),
     (MemoryDirectory(replace(AKS, display_name="aks-dev-agentpool", names=())),
      "which no row's prefix begins"),
     (None, "directory lookups are off (DIRECTORY_LOOKUP)")],
)  # fmt: skip
def test_when_the_directory_cannot_tell_nothing_is_granted_and_the_finding_says_why(
    directory: MemoryDirectory | None, says: str
) -> None:
    ctx = with_directory("fix", directory, ROW) if directory else make("fix", ROW)[0]
    status, (finding,) = fail(ctx, Puller(PullerKind.ENTRA, KUBELET))
    assert status is ReactionStatus.REPORTED and grants(ctx) == []
    assert "servicePrincipalNamePrefix are not matched" in finding.message
    assert says in finding.message and "name it by principalId" in finding.message
    journal = ctx.journal
    assert isinstance(journal, MemoryJournal) and journal.outcome_log[-1].action is None


def test_no_lookup_without_a_prefix_row_or_when_a_row_names_the_object_id() -> None:
    directory = MemoryDirectory(AKS)
    by_id = PullPolicy("by-id", principal_id=KUBELET)
    fail(with_directory("fix", directory, by_id, ROW), Puller(PullerKind.ENTRA, KUBELET))
    fail(with_directory("fix", directory, by_id), Puller(PullerKind.ENTRA, KUBELET), "s2")
    other_registry = PullPolicy("elsewhere", registry="othercache1", spn_prefix="aks-")
    fail(with_directory("fix", directory, other_registry), Puller(PullerKind.ENTRA, KUBELET), "s3")
    assert directory.reads == []
