"""Declared credential sets through the real SDK clients against the sandbox: a missing set is
created and its new identity granted read on both secrets (fix mode), verified once RBAC applies
and ACR's health says Healthy; rules move between credential sets and off one as their policy
rows say, with the plan/apply stale-plan protection; a set declared absent is deleted only when
no rule uses it; a set deleted and re-created out of band is repaired by the next audit."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sandbox import Sandbox
from shared.adapters.memory import MemoryJournal, MemoryPolicyStore, MemoryReportStore
from shared.domain.declared_sets import DeclaredCredentialSet
from shared.domain.ids import ResourceId
from shared.domain.plans import ActionKind, OutcomeStatus
from shared.domain.policies import Policy
from shared.domain.secrets import SecretRef
from shared.services import Context
from shared.services.audit import run_audit
from shared.services.plans import StalePlanError, apply_scope, parse_scope, plan_scope
from shared.services.verification import recheck_due
from tests.integration.app_context import REGISTRIES, demo_settings, sandbox_context

CONTOSO = ResourceId.parse(REGISTRIES["contosocache"])
MIRROR = CONTOSO.child("credentialSets", "quay-mirror")
QUAY_RULE = CONTOSO.child("cacheRules", "quay-prometheus")
KV = "https://kv-cache-rbac.vault.azure.net/secrets"
PULLER = "6c9f2d3b-8e4a-4f0b-a7d2-3a1b0e9f8d7c"
PROMETHEUS = "quay/prometheus/prometheus"
QUAY_ROW = {"id": "quay-prometheus", "upstream": "quay.io/prometheus/prometheus", "action": "allow",
            "targetTemplate": "quay/prometheus/prometheus", "registry": "contosocache"}  # fmt: skip


def declaration(name: str = "quay-mirror", **fields: object) -> DeclaredCredentialSet:
    data = {"name": name, "loginServer": "quay.io", "username": f"{KV}/quay-username",
            "password": f"{KV}/quay-password", "registries": ["contosocache"], **fields}  # fmt: skip
    return DeclaredCredentialSet.from_dict(data, vaults=["kv-cache-rbac", "kv-cache-policies"])


def context(sandbox: Sandbox, *rows: dict[str, object], mode: str = "fix") -> Context:
    policies = MemoryPolicyStore([Policy.from_dict(p) for p in [*sandbox.scenario.policies, *rows]])
    ctx = sandbox_context(sandbox, settings=demo_settings(REMEDIATION_MODE=mode),
                          policies=policies, journal=MemoryJournal(), sleep_scale=0)  # fmt: skip
    return replace(ctx, reports=MemoryReportStore())


def plan_and_apply(ctx: Context, body: dict[str, str]) -> list[tuple[ActionKind | None, str]]:
    scope = parse_scope(ctx, body)
    planned = plan_scope(ctx, scope)
    applied = apply_scope(ctx, scope, planned.plan.id)
    return [(o.action, o.status.value) for o in applied.outcomes]


@pytest.fixture
def pinned(sandbox: Sandbox) -> Sandbox:
    sandbox.clock.advance(0)  # the clock moves only when the test says so
    sandbox.set_timing(rbac_delay_seconds=120)
    return sandbox


def settle(sandbox: Sandbox, ctx: Context) -> None:
    """Let RBAC apply and ACR re-evaluate, then conclude what is due."""
    sandbox.clock.advance(600)
    recheck_due(ctx)


def test_a_declared_set_is_created_granted_verified_and_serves_a_pull(pinned: Sandbox) -> None:
    ctx = context(pinned, QUAY_ROW | {"credentialSet": "quay-mirror"})
    ctx.policies.put_declared_set(declaration())
    scope = parse_scope(ctx, {"registry": "contosocache", "credentialSet": "quay-mirror"})
    planned = plan_scope(ctx, scope).to_dict()
    kinds = [a["kind"] for a in planned["actions"]]
    assert kinds == ["create-credential-set", "move-cache-rule"]
    create = planned["actions"][0]["changes"]
    assert [g["scope"].rsplit("/", 1)[-1] for g in create["grants"]] == [
        "quay-username", "quay-password"
    ]  # fmt: skip

    outcomes = plan_and_apply(ctx, {"registry": "contosocache", "credentialSet": "quay-mirror"})

    assert outcomes == [
        (ActionKind.CREATE_CREDENTIAL_SET, "succeeded"),
        (ActionKind.GRANT_SECRET_READ, "pending-verification"),
        (ActionKind.GRANT_SECRET_READ, "pending-verification"),
        (ActionKind.MOVE_CACHE_RULE, "succeeded"),
    ]
    created = ctx.registry.get_credential_set(MIRROR)
    assert created.principal_id and created.principal_id == pinned.principal_of(
        "contosocache", "quay-mirror"
    )
    assert ctx.registry.get_cache_rule(QUAY_RULE).credential_set_id == MIRROR
    assert not ctx.registry.get_credential_set(MIRROR).health.is_healthy  # RBAC not applied yet

    settle(pinned, ctx)

    assert ctx.registry.get_credential_set(MIRROR).health.is_healthy
    assert ctx.journal.pending_verifications() == []
    assert isinstance(ctx.journal, MemoryJournal)
    verdicts = [o for o in ctx.journal.outcome_log if o.action is ActionKind.GRANT_SECRET_READ]
    assert [o.status for o in verdicts][-2:] == [OutcomeStatus.SUCCEEDED] * 2
    pinned.add_role_assignment(PULLER, "AcrPull", str(CONTOSO))
    pinned.clock.advance(600)
    assert pinned.pull("contosocache", PROMETHEUS, as_principal=PULLER) == 200
    again = parse_scope(ctx, {"registry": "contosocache", "credentialSet": "quay-mirror"})
    assert plan_scope(ctx, again).plan.actions == ()  # converged


def test_without_fix_mode_the_set_is_created_without_grants(pinned: Sandbox) -> None:
    ctx = context(pinned, mode="report")
    ctx.policies.put_declared_set(declaration())
    outcomes = plan_and_apply(ctx, {"registry": "contosocache", "credentialSet": "quay-mirror"})
    assert outcomes == [(ActionKind.CREATE_CREDENTIAL_SET, "succeeded")]
    principal = pinned.principal_of("contosocache", "quay-mirror")
    assert pinned.role_assignments_for(principal) == []


def test_a_rule_moves_off_a_set_declared_absent_then_the_set_is_deleted(pinned: Sandbox) -> None:
    ctx = context(pinned, QUAY_ROW, mode="report")  # the row names no credential set
    ctx.policies.put_declared_set(declaration("quay-io", absent=True))
    planned = plan_scope(ctx, parse_scope(ctx, {"registry": "contosocache"}))
    assert ActionKind.DELETE_CREDENTIAL_SET not in {a.kind for a in planned.plan.actions}
    assert "credential-set-in-use" in {f.kind for f in planned.plan.findings}

    first = plan_and_apply(ctx, {"registry": "contosocache", "credentialSet": "quay-io"})
    assert first == [(ActionKind.MOVE_CACHE_RULE, "succeeded")]
    assert ctx.registry.get_cache_rule(QUAY_RULE).credential_set_id is None

    second = plan_and_apply(ctx, {"registry": "contosocache"})
    assert (ActionKind.DELETE_CREDENTIAL_SET, "succeeded") in second
    assert "quay-io" not in {c.name for c in ctx.registry.list_credential_sets(CONTOSO)}


def test_a_move_planned_before_the_rule_changed_is_refused_as_stale(pinned: Sandbox) -> None:
    ctx = context(pinned, QUAY_ROW | {"credentialSet": "quay-mirror"})
    ctx.policies.put_declared_set(declaration())
    ctx.registry.create_credential_set(
        MIRROR, login_server="quay.io", username=SecretRef.parse(f"{KV}/quay-username"),
        password=SecretRef.parse(f"{KV}/quay-password"),
    )  # fmt: skip
    scope = parse_scope(ctx, {"registry": "contosocache"})
    planned = plan_scope(ctx, scope)
    assert ActionKind.MOVE_CACHE_RULE in {a.kind for a in planned.plan.actions}
    ctx.registry.update_cache_rule(QUAY_RULE, credential_set=None)  # someone else, meanwhile

    with pytest.raises(StalePlanError):
        apply_scope(ctx, scope, planned.plan.id)
    assert ctx.registry.get_cache_rule(QUAY_RULE).credential_set_id is None


def test_a_declared_update_never_moves_a_set_to_an_older_version(pinned: Sandbox) -> None:
    ctx = context(pinned)
    ghcr = CONTOSO.child("credentialSets", "ghcr-acme")
    older = ctx.registry.get_credential_set(ghcr)
    pinned.clock.advance(60)
    newer = pinned.add_secret_version("kv-cache-policies", "ghcr-password")
    ctx.registry.update_credential_set(ghcr, username=older.username,
                                       password=older.password.with_version(newer["version"]))  # fmt: skip
    ctx.policies.put_declared_set(DeclaredCredentialSet.from_dict({
        "name": "ghcr-acme", "loginServer": "ghcr.io", "username": str(older.username),
        "password": str(older.password), "registries": ["contosocache"],
    }))  # fmt: skip
    scope = parse_scope(ctx, {"registry": "contosocache", "credentialSet": "ghcr-acme"})
    planned = plan_scope(ctx, scope)
    assert "declared-version-older" in {f.kind for f in planned.plan.findings}
    assert str(older.password) not in str([a.to_dict() for a in planned.plan.actions])


def test_a_set_re_created_out_of_band_is_found_and_repaired_by_the_next_audit(
    pinned: Sandbox,
) -> None:
    ctx = context(pinned, QUAY_ROW | {"credentialSet": "quay-mirror"})
    ctx.policies.put_declared_set(declaration())
    plan_and_apply(ctx, {"registry": "contosocache"})
    settle(pinned, ctx)
    old = pinned.principal_of("contosocache", "quay-mirror")
    # out of band: off the rule, delete, re-create (a new system-assigned identity), back on
    ctx.registry.update_cache_rule(QUAY_RULE, credential_set=None)
    ctx.registry.delete_credential_set(MIRROR)
    ctx.registry.create_credential_set(
        MIRROR, login_server="quay.io", username=SecretRef.parse(f"{KV}/quay-username"),
        password=SecretRef.parse(f"{KV}/quay-password"),
    )  # fmt: skip
    ctx.registry.update_cache_rule(QUAY_RULE, credential_set=MIRROR)
    new = pinned.principal_of("contosocache", "quay-mirror")
    assert new != old
    pinned.clock.advance(600)

    report = run_audit(ctx, registries=[CONTOSO], reconcile=True)

    kinds = {f.kind for f in report.findings}
    assert "access-denied" in kinds and "stale-grant" in kinds
    granted = [o for o in report.outcomes if o.action is ActionKind.GRANT_SECRET_READ]
    assert len(granted) == 2
    assert {a.principal_id for a in pinned.role_assignments_for(new)} == {new}
    settle(pinned, ctx)
    assert ctx.registry.get_credential_set(MIRROR).health.is_healthy


def test_the_status_shows_declared_against_actual(pinned: Sandbox) -> None:
    from shared.services.status import registry_status

    ctx = context(pinned)
    ctx.policies.put_declared_set(declaration())
    ctx.policies.put_declared_set(declaration("dockerhub", loginServer="docker.io", absent=True,
                                              username=f"{KV}/dockerhub-username"))  # fmt: skip
    states = {
        d["name"]: d["state"]
        for d in registry_status(ctx, "contosocache")["declaredCredentialSets"]
    }
    assert states == {"quay-mirror": "missing", "dockerhub": "to-delete",
                      "ghcr-acme": "undeclared", "quay-io": "undeclared"}  # fmt: skip
    plan_and_apply(ctx, {"registry": "contosocache", "credentialSet": "quay-mirror"})
    after = registry_status(ctx, "contosocache")["declaredCredentialSets"]
    assert {d["name"]: d["state"] for d in after}["quay-mirror"] == "present"
    assert registry_status(ctx, "fabrikamcache")["declaredCredentialSets"] == []
