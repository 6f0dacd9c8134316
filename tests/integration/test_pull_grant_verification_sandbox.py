"""A puller's grant is provisional: through the real SDK clients against a sandbox whose role
assignments take effect 120 s late, AcrPull is journaled pending verification, re-checked by the
same machinery as the Key Vault grants (the timer's `recheck_due`, audits), and concluded once
RBAC's propagation window has passed, or failed as soon as the assignment is gone."""

from __future__ import annotations

import pytest

from sandbox import Sandbox
from shared.adapters.memory import MemoryJournal, MemoryPolicyStore
from shared.domain.ids import ResourceId
from shared.domain.plans import ActionKind, Outcome, OutcomeStatus
from shared.domain.pull_policies import PullPolicy
from shared.domain.pullers import ACR_PULL, Puller, PullerKind
from shared.domain.repositories import TargetPath
from shared.domain.verification import RBAC_PROPAGATION
from shared.services import Context, ReactionStatus
from shared.services.reactions import dispatch
from shared.services.status import registry_status
from shared.services.verification import recheck_due
from shared.signals.pull_failures import PULL_FAILED, PullFailure
from tests.integration.app_context import REGISTRIES, demo_settings, sandbox_context

CONTOSO = ResourceId.parse(REGISTRIES["contosocache"])
KUBELET = "6c9f2d3b-8e4a-4f0b-a7d2-3a1b0e9f8d7c"
NGINX = "dockerhub/library/nginx"  # served by a rule whose credential set is Healthy


@pytest.fixture
def pinned(sandbox: Sandbox) -> Sandbox:
    sandbox.clock.advance(0)
    return sandbox


def granted(sandbox: Sandbox) -> tuple[Context, MemoryJournal]:
    policies = MemoryPolicyStore()
    policies.put_pull_policy(PullPolicy("kubelet", registry="contosocache", principal_id=KUBELET))
    journal = MemoryJournal()
    ctx = sandbox_context(
        sandbox, settings=demo_settings(REMEDIATION_MODE="fix"), policies=policies,
        journal=journal,
    )  # fmt: skip
    failure = PullFailure(
        CONTOSO, TargetPath.parse(NGINX), 401, puller=Puller(PullerKind.ENTRA, KUBELET)
    )
    assert dispatch(ctx, PULL_FAILED, failure, signal_id="pf-1").status is ReactionStatus.APPLIED
    return ctx, journal


def pull_outcomes(journal: MemoryJournal) -> list[Outcome]:
    return [o for o in journal.outcome_log if o.action is ActionKind.GRANT_PULL]


def test_acrpull_is_pending_until_the_propagation_window_passes_then_verified(
    pinned: Sandbox,
) -> None:
    ctx, journal = granted(pinned)
    (first,) = pull_outcomes(journal)
    assert first.status is OutcomeStatus.PENDING_VERIFICATION
    assert "waiting for RBAC" in first.reason and first.after["role"] == ACR_PULL
    (assignment,) = pinned.role_assignments_for(KUBELET)
    assert first.after["roleAssignment"].lower() == assignment.guid
    signal = [o for o in journal.outcome_log if o.action is None and o.signal_id == "pf-1"]
    assert [o.status for o in signal] == [OutcomeStatus.PENDING_VERIFICATION]
    (pending,) = ctx.journal.pending_verifications()
    assert pending.credential_set is None and pending.assignment is not None
    assert pending.deadline == pending.applied_at + RBAC_PROPAGATION
    status = registry_status(ctx, "contosocache")
    assert len(status["pendingVerifications"]) == 1

    assert pinned.pull("contosocache", NGINX, as_principal=KUBELET) == 401  # not applied yet
    pinned.clock.advance(30)
    assert recheck_due(ctx) == []  # the read-back agrees, but RBAC may not honour it yet
    pinned.clock.advance(100)  # +130: the sandbox honours it now (120 s)...
    assert pinned.pull("contosocache", NGINX, as_principal=KUBELET) == 200
    assert recheck_due(ctx) == []  # ...but Azure promises only "up to 10 minutes"
    assert pull_outcomes(journal) == [first]
    checks = 0
    while ctx.journal.pending_verifications():
        pinned.clock.advance(60)
        verdicts = recheck_due(ctx)
        checks += 1
        assert checks <= 10
    (verdict,) = verdicts
    assert verdict.status is OutcomeStatus.SUCCEEDED and verdict.signal_id == "pf-1"
    assert "verified: role assignment" in verdict.reason
    assert [o.status for o in pull_outcomes(journal)] == [
        OutcomeStatus.PENDING_VERIFICATION, OutcomeStatus.SUCCEEDED,
    ]  # fmt: skip
    assert recheck_due(ctx) == []  # nothing concluded twice


def test_an_assignment_removed_while_pending_fails_at_the_next_check(pinned: Sandbox) -> None:
    ctx, journal = granted(pinned)
    pinned.clock.advance(30)
    assert recheck_due(ctx) == []
    assert pinned.remove_role_assignments(principal_id=KUBELET) == 1
    pinned.clock.advance(60)
    (verdict,) = recheck_due(ctx)
    assert verdict.status is OutcomeStatus.FAILED and "no longer exists" in verdict.reason
    assert ctx.journal.pending_verifications() == []
    assert not any(o.status is OutcomeStatus.SUCCEEDED for o in pull_outcomes(journal))


def test_a_redelivered_failure_grants_nothing_more_and_opens_no_second_verification(
    pinned: Sandbox,
) -> None:
    ctx, _ = granted(pinned)
    failure = PullFailure(
        CONTOSO, TargetPath.parse(NGINX), 401, puller=Puller(PullerKind.ENTRA, KUBELET)
    )
    dispatch(ctx, PULL_FAILED, failure, signal_id="pf-1")
    assert len(pinned.role_assignments_for(KUBELET)) == 1
    assert len(ctx.journal.pending_verifications()) == 1
