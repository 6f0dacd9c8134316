"""The puller side of the reaction with the in-memory fakes: tokens and the admin user are
reported, never changed; Entra identities are granted only the least pull role a pull row allows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.adapters.memory import (
    FixedClock,
    MemoryAccess,
    MemoryJournal,
    MemoryPolicyStore,
    MemoryRegistry,
    MemorySecrets,
)
from shared.domain.actions import PullGrant
from shared.domain.directory import ServicePrincipal
from shared.domain.ids import ResourceId
from shared.domain.plans import Action, ActionKind, OutcomeStatus
from shared.domain.pull_policies import PullPolicy, pull_policy_for
from shared.domain.pullers import (
    ACR_PULL,
    REPOSITORY_READER,
    Puller,
    PullerKind,
    RegistryToken,
    ScopeMap,
    abac_repository_condition,
)
from shared.domain.repositories import TargetPath
from shared.errors import InvalidPolicyError
from shared.services import Context, ReactionStatus
from shared.services.appliers import apply_actions
from shared.services.pull_failures import diagnose_pull_failure
from shared.settings import Settings
from shared.signals.pull_failures import PullFailure
from tests.unit.test_puller_access import ROLES

SUB = "00000000-0000-0000-0000-000000000001"
REGISTRY = ResourceId.parse(
    f"/subscriptions/{SUB}/resourceGroups/rg-cache/providers/Microsoft.ContainerRegistry/registries/contosocache"
)
KUBELET = "5b8e1c2a-7d3f-4e9a-b6c1-2f0a9d8e7c6b"
REPO = "team/app"
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def make(
    mode: str = "report", *rows: PullPolicy, abac: bool = False
) -> tuple[Context, MemoryRegistry, MemoryAccess]:
    registry = MemoryRegistry([REGISTRY])
    registry.set_auth(REGISTRY, abac=abac)
    access = MemoryAccess()
    policies = MemoryPolicyStore()
    for row in rows:
        policies.put_pull_policy(row)
    settings = Settings.from_env(
        {
            "CACHEKEEPER_MODE": "sandbox",
            "MANAGED_REGISTRIES": str(REGISTRY),
            "REMEDIATION_MODE": mode,
        }
    )
    ctx = Context(
        settings, registry, MemorySecrets(), access, policies, MemoryJournal(), FixedClock(NOW)
    )
    return ctx, registry, access


def fail(ctx: Context, puller: Puller, signal: str = "s1") -> tuple[ReactionStatus, list[object]]:
    reaction = diagnose_pull_failure(
        ctx, PullFailure(REGISTRY, TargetPath.parse(REPO), 401, puller=puller), signal
    )
    journal = ctx.journal
    assert isinstance(journal, MemoryJournal)
    found = [f for _, _, f in journal.finding_log]
    assert [f.kind for f in found][:1] == ["pull-failure-not-cached"]  # no rule serves team/app
    return reaction.status, [f for f in found if f.kind.startswith("puller")]


def test_a_token_whose_scope_map_lacks_the_repository_is_reported_with_the_scope_map_change() -> (
    None
):
    ctx, registry, access = make("fix", PullPolicy("any", principal_id=KUBELET))
    scope_map = ScopeMap(REGISTRY.child("scopeMaps", "ci"), ("repositories/other/content/read",))
    registry.add_token(
        RegistryToken(
            REGISTRY.child("tokens", "ci-token"), "ci-token", True, scope_map.id, (None,)
        ),
        scope_map,
    )
    status, (finding,) = fail(ctx, Puller(PullerKind.TOKEN, "ci-token"))
    assert status is ReactionStatus.REPORTED
    assert finding.kind == "puller-cannot-pull" and "report only" in finding.message
    assert (
        finding.fix
        == f"az acr scope-map update -n ci -r contosocache --add-repository {REPO} content/read"
    )
    assert access.grants == [] and registry.writes == []


def test_the_disabled_admin_user_is_reported_and_never_enabled() -> None:
    ctx, registry, access = make("fix")
    status, (finding,) = fail(ctx, Puller(PullerKind.ADMIN_USER, "contosocache"))
    assert status is ReactionStatus.REPORTED and "disabled" in finding.message
    assert registry.writes == [] and access.grants == []


def test_fix_mode_in_abac_mode_grants_repository_reader_conditioned_on_the_repository() -> None:
    ctx, _, access = make(
        "fix", PullPolicy("kubelet", principal_id=KUBELET, repository=REPO), abac=True
    )
    status, _ = fail(ctx, Puller(PullerKind.ENTRA, KUBELET))
    assert status is ReactionStatus.APPLIED
    (grant,) = access.grants
    assert grant.role_definition_id == REPOSITORY_READER and grant.scope == REGISTRY
    assert grant.condition == abac_repository_condition(REPO)
    status, _ = fail(ctx, Puller(PullerKind.ENTRA, KUBELET), "s2")
    assert status is ReactionStatus.DUPLICATE  # coalesced within the window


def test_no_row_for_the_identity_means_no_grant_and_the_finding_says_why() -> None:
    other = "11111111-2222-3333-4444-555555555555"
    ctx, _, access = make("fix", PullPolicy("someone-else", principal_id=other))
    status, (finding,) = fail(ctx, Puller(PullerKind.ENTRA, KUBELET))
    assert status is ReactionStatus.REPORTED and "grants nothing" in finding.message
    assert access.grants == []


def test_a_row_by_service_principal_name_is_not_matched_and_the_finding_says_so() -> None:
    ctx, _, access = make("fix", PullPolicy("by-name", spn_prefix="aks-prod-"))
    status, (finding,) = fail(ctx, Puller(PullerKind.ENTRA, KUBELET))
    assert status is ReactionStatus.REPORTED and "grants nothing" in finding.message
    assert "servicePrincipalNamePrefix are not matched" in finding.message
    assert access.grants == []
    ctx, _, _ = make(
        "fix", PullPolicy("someone-else", principal_id="1" * 8 + "-2222-3333-4444-" + "5" * 12)
    )
    _, (plain,) = fail(ctx, Puller(PullerKind.ENTRA, KUBELET))
    assert "servicePrincipalNamePrefix" not in plain.message  # said only when such a row exists


def test_an_identity_that_can_pull_gives_no_puller_finding() -> None:
    ctx, _, access = make("report")
    access.assign(REGISTRY, KUBELET, ACR_PULL)
    access.add_role(ROLES[ACR_PULL])  # Azure's AcrPull definition
    _, findings = fail(ctx, Puller(PullerKind.ENTRA, KUBELET))
    assert [f for f in findings if f.kind == "puller-cannot-pull"] == []


@pytest.mark.parametrize(
    "grant",
    [PullGrant(KUBELET, "8311e382-0749-4cb8-b61a-304f252e45ec", REPO, "row"),  # AcrPush
     PullGrant(KUBELET, "8e3af657-a8ff-443c-a75c-2fe8c4bcb635", REPO, "row"),  # Owner
     PullGrant(KUBELET, REPOSITORY_READER, REPO, "row")],  # unconditioned: registry-wide
)  # fmt: skip
def test_the_applier_refuses_anything_but_the_least_pull_roles(grant: PullGrant) -> None:
    ctx, _, access = make("fix")
    action = Action(ActionKind.GRANT_PULL, str(REGISTRY), "test", grant)
    (outcome,) = apply_actions(ctx, [action], signal_id="s")
    assert outcome.status is OutcomeStatus.FAILED and access.grants == []


def test_pull_rows_validate_and_match_by_object_id_or_spn_prefix() -> None:
    row = PullPolicy.from_dict(
        {"id": "ci", "servicePrincipalNamePrefix": "sp-ci-", "registry": "contosocache"}
    )
    assert PullPolicy.from_dict(row.to_dict()) == row
    assert (
        pull_policy_for(
            [row],
            principal_id=KUBELET,
            principal=ServicePrincipal(KUBELET, KUBELET, "SP-CI-build", (), "Application"),
            registry_name="contosocache",
            repository=REPO,
        )
        == row
    )
    assert (
        pull_policy_for(
            [row],
            principal_id=KUBELET,
            principal=None,
            registry_name="contosocache",
            repository=REPO,
        )
        is None
    )
    assert (
        pull_policy_for(
            [row],
            principal_id=KUBELET,
            registry_name="othercache1",
            repository=REPO,
            principal=ServicePrincipal(KUBELET, KUBELET, "sp-ci-x", (), "Application"),
        )
        is None
    )
    for bad in ({"id": "x"}, {"id": "x", "principalId": "not-a-guid"},
                {"id": "x", "principalId": KUBELET, "servicePrincipalNamePrefix": "sp"},
                {"id": "x", "principalId": KUBELET, "role": "Owner"},
                {"id": "x", "principalId": KUBELET, "repository": "Team/App"}):  # fmt: skip
        with pytest.raises(InvalidPolicyError):
            PullPolicy.from_dict(bad)


def test_pull_rows_round_trip_through_import_and_export_and_a_bad_one_writes_nothing() -> None:
    from shared.services.policies import export_policies, import_policies

    ctx, _, _ = make()
    row = {"id": "kubelet", "kind": "pull", "registry": "contosocache", "principalId": KUBELET,
           "enabled": True, "description": ""}  # fmt: skip
    only_pull_rows = {"version": 1, "policies": [], "pullPolicies": [row]}
    import_policies(ctx, only_pull_rows, allow_empty=True)
    assert export_policies(ctx) == only_pull_rows
    bad = {**only_pull_rows, "pullPolicies": [row, {"id": "bad"}]}
    with pytest.raises(InvalidPolicyError, match="pull row 2"):
        import_policies(ctx, bad, allow_empty=True)
    # no pullPolicies: the pull rows stay
    import_policies(ctx, {"version": 1, "policies": []}, allow_empty=True)
    assert [r.id for r in ctx.policies.list_pull_policies()] == ["kubelet"]
    import_policies(ctx, {"version": 1, "policies": [], "pullPolicies": []}, allow_empty=True)
    assert export_policies(ctx) == {"version": 1, "policies": []}
