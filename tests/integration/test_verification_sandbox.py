"""Verification is provisional: a change ACR's read-back does not confirm yet is pending, then
verified or failed, through the real SDK clients against a sandbox whose credentialHealth lags
and whose role assignments take effect late (the integration tier's default timing)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from sandbox import Sandbox
from shared.adapters.memory import MemoryJournal, MemoryPolicyStore, MemoryReportStore
from shared.domain.ids import ResourceId
from shared.domain.plans import ActionKind, Outcome, OutcomeStatus
from shared.domain.policies import Policy
from shared.domain.repositories import TargetPath
from shared.domain.verification import VERIFICATION_WINDOW
from shared.services import Context, ReactionStatus
from shared.services.reactions import dispatch
from shared.services.reports import audit_now
from shared.services.status import registry_status
from shared.services.verification import recheck_due
from shared.signals.pull_failures import PULL_FAILED, PullFailure
from tests.integration.app_context import REGISTRIES, demo_settings, sandbox_context

CONTOSO = ResourceId.parse(REGISTRIES["contosocache"])
QUAY = str(CONTOSO.child("credentialSets", "quay-io"))
REPAIRS = {ActionKind.GRANT_SECRET_READ, ActionKind.REFRESH_CREDENTIAL_SET}


def context(sandbox: Sandbox) -> Context:
    policies = MemoryPolicyStore([Policy.from_dict(p) for p in sandbox.scenario.policies])
    ctx = sandbox_context(
        sandbox,
        settings=demo_settings(REMEDIATION_MODE="fix"),
        policies=policies,
        journal=MemoryJournal(),
        sleep_scale=0,
    )
    return replace(ctx, reports=MemoryReportStore())


def journal(ctx: Context) -> list[Outcome]:
    assert isinstance(ctx.journal, MemoryJournal)
    return list(ctx.journal.outcome_log)


def repair_pull_failure(ctx: Context) -> None:
    failure = PullFailure(CONTOSO, TargetPath.parse("quay/prometheus/prometheus"), 401)
    reaction = dispatch(ctx, PULL_FAILED, failure, signal_id="pull-1")
    assert reaction.status is ReactionStatus.APPLIED


def never_succeeded_unverified(outcomes: list[Outcome]) -> None:
    """No change is recorded succeeded with a read-back that is not Healthy, and every action's
    success comes after (never instead of) its pending record."""
    for outcome in outcomes:
        if outcome.status is OutcomeStatus.SUCCEEDED and outcome.health is not None:
            assert outcome.health == "Healthy", outcome


def statuses(outcomes: list[Outcome], signal_id: str = "pull-1") -> list[tuple[str, str]]:
    return [
        (o.action.value if o.action else "signal", o.status.value)
        for o in outcomes
        if o.signal_id == signal_id
    ]


@pytest.fixture
def pinned(sandbox: Sandbox) -> Sandbox:
    """The test's sandbox with its clock stopped (it moves only when the test says so)."""
    sandbox.clock.advance(0)
    return sandbox


def test_a_repair_is_pending_until_the_grants_apply_then_verified(pinned: Sandbox) -> None:
    ctx = context(pinned)
    repair_pull_failure(ctx)
    first = journal(ctx)
    assert sorted(statuses(first)) == sorted([
        ("grant-secret-read", "pending-verification"),
        ("grant-secret-read", "pending-verification"),
        ("refresh-credential-set", "pending-verification"),
        ("signal", "pending-verification"),
    ])  # fmt: skip
    refresh = next(o for o in first if o.action is ActionKind.REFRESH_CREDENTIAL_SET)
    assert refresh.health == "Unhealthy"  # RBAC has not applied the grants yet
    status = registry_status(ctx, "contosocache")
    quay = next(c for c in status["credentialSets"] if c["name"] == "quay-io")
    assert quay["pendingVerification"] == 3 and len(status["pendingVerifications"]) == 3

    pinned.clock.advance(30)
    assert recheck_due(ctx) == []  # still Unhealthy: checked, moved on
    assert len(ctx.journal.pending_verifications()) == 3
    pinned.clock.advance(60)  # +90: the grants apply at +120
    assert recheck_due(ctx) == []
    pinned.clock.advance(120)  # +210: ACR's evaluation at +180 saw the grants
    verdicts = recheck_due(ctx)
    assert {(o.action, o.status) for o in verdicts} == {
        (ActionKind.GRANT_SECRET_READ, OutcomeStatus.SUCCEEDED),
        (ActionKind.REFRESH_CREDENTIAL_SET, OutcomeStatus.SUCCEEDED),
    }
    assert len(verdicts) == 3 and all("verified" in o.reason for o in verdicts)
    assert ctx.journal.pending_verifications() == []
    outcomes = journal(ctx)
    # the signal keeps its one terminal outcome (pending); the verdicts are the actions' own
    assert [s for s in statuses(outcomes) if s[0] == "signal"] == [
        ("signal", "pending-verification")
    ]
    never_succeeded_unverified(outcomes)
    assert recheck_due(ctx) == []  # nothing concluded twice


def test_a_repair_acr_never_confirms_fails_when_the_window_closes(pinned: Sandbox) -> None:
    pinned.set_timing(rbac_delay_seconds=3600)  # longer than the verification window
    ctx = context(pinned)
    repair_pull_failure(ctx)
    checks = 0
    while ctx.journal.pending_verifications():
        pinned.clock.advance(60)
        verdicts = recheck_due(ctx)
        checks += 1
        assert checks <= 16
    assert checks == VERIFICATION_WINDOW // timedelta(minutes=1)  # concluded at the deadline
    outcomes = journal(ctx)
    verdicts = [
        o
        for o in outcomes
        if o.action in REPAIRS and o.status is not OutcomeStatus.PENDING_VERIFICATION
    ]
    assert len(verdicts) == 3 and all(o.status is OutcomeStatus.FAILED for o in verdicts)
    assert all(
        "not verified within 15 minutes" in o.reason and "AccessDenied" in o.reason
        for o in verdicts
    )
    assert not any(o.status is OutcomeStatus.SUCCEEDED for o in outcomes if o.signal_id == "pull-1")


def test_a_later_audit_finishes_the_job(pinned: Sandbox) -> None:
    ctx = context(pinned)
    first = audit_now(ctx, reconcile=True)
    applied = {(o.action, o.resource.rsplit("/", 1)[-1], o.status) for o in first.outcomes}
    assert (
        ActionKind.REFRESH_CREDENTIAL_SET,
        "quay-io",
        OutcomeStatus.PENDING_VERIFICATION,
    ) in applied
    assert (
        ActionKind.UPDATE_CREDENTIAL_SET,
        "ghcr-acme",
        OutcomeStatus.SUCCEEDED,
    ) in applied  # read back Healthy
    assert ctx.journal.pending_verifications()  # no timer runs in this test

    pinned.clock.advance(300)
    second = audit_now(ctx, reconcile=False)
    assert ctx.journal.pending_verifications() == []
    verified = [o for o in journal(ctx) if o.action in REPAIRS and "verified" in o.reason]
    assert len(verified) == 3 and all(o.status is OutcomeStatus.SUCCEEDED for o in verified)
    assert second.counts["actions"] == 0
    assert {(f.kind, f.resource.rsplit("/", 1)[-1]) for f in second.findings} == {
        ("secret-expiry", "quay-password"),
        ("unmanaged-rule", "quay-prometheus"),
        ("squatted-target", "azure-cli"),
    }
    never_succeeded_unverified(journal(ctx))


@pytest.mark.instant_azure
def test_with_instant_azure_a_repair_is_verified_in_the_same_apply(sandbox: Sandbox) -> None:
    ctx = context(sandbox)
    repair_pull_failure(ctx)
    outcomes = journal(ctx)
    final = [o for o in outcomes if o.action in REPAIRS and o.status is OutcomeStatus.SUCCEEDED]
    assert len(final) == 3
    assert ctx.journal.pending_verifications() == []
    assert [s for s in statuses(outcomes) if s[0] == "signal"] == [("signal", "succeeded")]
    never_succeeded_unverified(outcomes)
