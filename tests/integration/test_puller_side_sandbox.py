"""The puller side of a pull failure, through the real SDK clients against the sandbox: a
kubelet-style managed identity without AcrPull, alone or together with a credential set whose
identity cannot read its secrets."""

from __future__ import annotations

from typing import Any

from sandbox import Sandbox
from shared.adapters.memory import MemoryJournal, MemoryPolicyStore
from shared.domain.ids import ResourceId
from shared.domain.plans import ActionKind, OutcomeStatus
from shared.domain.pull_policies import PullPolicy
from shared.domain.pullers import ACR_PULL, PULL_READ, Puller, PullerKind
from shared.domain.repositories import TargetPath
from shared.services import Context, ReactionStatus
from shared.services.reactions import dispatch
from shared.signals.pull_failures import PULL_FAILED, PullFailure
from tests.integration.app_context import REGISTRIES, demo_settings, sandbox_context

CONTOSO = ResourceId.parse(REGISTRIES["contosocache"])
KUBELET = "5b8e1c2a-7d3f-4e9a-b6c1-2f0a9d8e7c6b"


def failure(repository: str, puller: Puller | None) -> PullFailure:
    return PullFailure(CONTOSO, TargetPath.parse(repository), 401, puller=puller)


def context(sandbox: Sandbox, mode: str, *rows: PullPolicy) -> Context:
    policies = MemoryPolicyStore()
    for row in rows:
        policies.put_pull_policy(row)
    return sandbox_context(
        sandbox, settings=demo_settings(REMEDIATION_MODE=mode), policies=policies,
        journal=MemoryJournal(),
    )  # fmt: skip


def findings(ctx: Context) -> list[Any]:
    journal = ctx.journal
    assert isinstance(journal, MemoryJournal)
    return [f for _, _, f in journal.finding_log]


KUBELET_PULLER = Puller(PullerKind.ENTRA, KUBELET)


def test_report_mode_names_the_identity_the_missing_permission_and_the_fix(
    sandbox: Sandbox,
) -> None:
    ctx = context(sandbox, "report")
    reaction = dispatch(
        ctx, PULL_FAILED, failure("dockerhub/library/nginx", KUBELET_PULLER), signal_id="p1"
    )
    assert reaction.status is ReactionStatus.REPORTED
    (finding,) = [f for f in findings(ctx) if f.kind == "puller-cannot-pull"]
    assert KUBELET in finding.message and "no pull row" in finding.message
    assert finding.evidence["missing"] == PULL_READ and finding.evidence["scope"] == str(CONTOSO)
    assert (
        finding.fix
        == f"az role assignment create --assignee {KUBELET} --role AcrPull --scope {CONTOSO}"
    )
    assert sandbox.log.writes() == []


def test_a_failure_with_both_causes_reports_both(sandbox: Sandbox) -> None:
    ctx = context(sandbox, "report")
    dispatch(
        ctx, PULL_FAILED, failure("quay/prometheus/prometheus", KUBELET_PULLER), signal_id="p2"
    )
    kinds = sorted({f.kind for f in findings(ctx)})
    assert kinds == ["access-denied", "puller-cannot-pull"]
    assert sandbox.log.writes() == []


def test_fix_mode_grants_acrpull_at_registry_scope_only_for_a_pull_row(sandbox: Sandbox) -> None:
    without = context(sandbox, "fix")
    dispatch(
        without, PULL_FAILED, failure("dockerhub/library/nginx", KUBELET_PULLER), signal_id="p3"
    )
    assert sandbox.role_assignments_for(KUBELET) == []
    row = PullPolicy("aks-prod-kubelet", registry="contosocache", principal_id=KUBELET)
    ctx = context(sandbox, "fix", row)
    reaction = dispatch(
        ctx, PULL_FAILED, failure("dockerhub/library/nginx", KUBELET_PULLER), signal_id="p4"
    )
    assert reaction.status is ReactionStatus.APPLIED
    (grant,) = sandbox.role_assignments_for(KUBELET)
    assert grant.role_definition_guid == ACR_PULL and grant.scope.lower() == str(CONTOSO).lower()
    journal = ctx.journal
    assert isinstance(journal, MemoryJournal)
    assert [(o.action, o.status) for o in journal.outcome_log if o.action is not None] == [
        (ActionKind.GRANT_PULL, OutcomeStatus.PENDING_VERIFICATION)
    ]  # verified once RBAC's propagation window has passed


def test_a_failure_without_a_puller_is_diagnosed_as_before(sandbox: Sandbox) -> None:
    ctx = context(sandbox, "report")
    dispatch(ctx, PULL_FAILED, failure("quay/prometheus/prometheus", None), signal_id="p5")
    assert {f.kind for f in findings(ctx)} == {"access-denied"}


def test_fix_mode_never_grants_the_apps_own_identity_even_with_a_pull_row(
    sandbox: Sandbox,
) -> None:
    """A pull row naming cachekeeper's own identity (a mistake, or an attempt at registry-wide
    pull rights for the app) is refused before any role assignment write."""
    row = PullPolicy("self", registry="contosocache", principal_id=KUBELET)
    policies = MemoryPolicyStore()
    policies.put_pull_policy(row)
    settings = demo_settings(REMEDIATION_MODE="fix", APP_PRINCIPAL_ID=KUBELET.upper())
    ctx = sandbox_context(sandbox, settings=settings, policies=policies, journal=MemoryJournal())
    dispatch(ctx, PULL_FAILED, failure("dockerhub/library/nginx", KUBELET_PULLER), signal_id="p6")
    assert sandbox.role_assignments_for(KUBELET) == []
    assert sandbox.log.writes("roleAssignments") == []
    journal = ctx.journal
    assert isinstance(journal, MemoryJournal)
    (outcome,) = [o for o in journal.outcome_log if o.action is ActionKind.GRANT_PULL]
    assert outcome.status is OutcomeStatus.FAILED and "own identity" in outcome.reason
