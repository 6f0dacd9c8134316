"""Pull-failure diagnosis and repair through the real SDK clients against the sandbox."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from sandbox import Sandbox
from shared.adapters.memory import MemoryJournal
from shared.domain.ids import ResourceId
from shared.domain.models import KEY_VAULT_SECRETS_USER
from shared.domain.plans import ActionKind, OutcomeStatus
from shared.domain.repositories import TargetPath
from shared.services import Context, ReactionStatus
from shared.services.reactions import dispatch
from shared.signals.pull_failures import PULL_FAILED, PullFailure
from tests.integration.app_context import REGISTRIES, SUB, demo_settings, sandbox_context
from tests.integration.conftest import _demo_document

CONTOSO = ResourceId.parse(REGISTRIES["contosocache"])
QUAY = CONTOSO.child("credentialSets", "quay-io")
DOCKERHUB = CONTOSO.child("credentialSets", "dockerhub")
CUSTOM_ROLE = "7e3c5a11-0000-4000-8000-00000000c0de"


def failure(repository: str = "quay/prometheus/prometheus", status: int = 401) -> PullFailure:
    return PullFailure(CONTOSO, TargetPath.parse(repository), status)


def context(sandbox: Sandbox, mode: str) -> Context:
    return sandbox_context(
        sandbox, settings=demo_settings(REMEDIATION_MODE=mode), journal=MemoryJournal()
    )


def findings(ctx: Context) -> list[Any]:
    journal = ctx.journal
    assert isinstance(journal, MemoryJournal)
    return [f for _, _, f in journal.finding_log]


def test_report_mode_records_the_fix_and_writes_nothing(sandbox: Sandbox) -> None:
    ctx = context(sandbox, "report")
    reaction = dispatch(ctx, PULL_FAILED, failure(), signal_id="s1")
    assert reaction.status is ReactionStatus.REPORTED
    denied = [f for f in findings(ctx) if f.kind == "access-denied"]
    assert len(denied) == 2  # quay-username and quay-password
    principal = sandbox.principal_of("contosocache", "quay-io")
    assert all(
        "az role assignment create" in f.fix and principal in f.fix and "/secrets/quay-" in f.fix
        for f in denied
    )
    assert sandbox.log.writes() == []


@pytest.mark.instant_azure  # with Azure's delays it is pending first: test_verification_sandbox.py
def test_fix_mode_grants_at_secret_scope_and_health_turns_healthy(sandbox: Sandbox) -> None:
    ctx = context(sandbox, "fix")
    assert sandbox.health("contosocache", "quay-io").status == "Unhealthy"
    reaction = dispatch(ctx, PULL_FAILED, failure(), signal_id="s1")
    assert reaction.status is ReactionStatus.APPLIED
    principal = sandbox.principal_of("contosocache", "quay-io")
    grants = sandbox.role_assignments_for(principal)
    assert sorted(g.scope.rsplit("/", 1)[-1] for g in grants) == ["quay-password", "quay-username"]
    assert all(
        g.role_definition_guid == KEY_VAULT_SECRETS_USER and "/secrets/" in g.scope for g in grants
    )
    assert ctx.registry.get_credential_set(QUAY).health.is_healthy
    journal = ctx.journal
    assert isinstance(journal, MemoryJournal)
    kinds = [(o.action, o.status) for o in journal.outcome_log if o.action is not None]
    assert kinds.count((ActionKind.GRANT_SECRET_READ, OutcomeStatus.SUCCEEDED)) == 2
    assert (ActionKind.REFRESH_CREDENTIAL_SET, OutcomeStatus.SUCCEEDED) in kinds
    # nothing but role assignment PUTs and one credential set PATCH was written
    assert {(w.method, "roleAssignments" in w.path) for w in sandbox.log.writes()} == {
        ("PUT", True),
        ("PATCH", False),
    }


def _with_custom_role(not_data_actions: list[str]) -> dict[str, Any]:
    doc = copy.deepcopy(_demo_document())
    doc["roleDefinitions"] = [
        {
            "name": CUSTOM_ROLE,
            "roleName": "Vault data reader (custom)",
            "permissions": [
                {
                    "actions": [],
                    "notActions": [],
                    "dataActions": ["Microsoft.KeyVault/vaults/*"],
                    "notDataActions": not_data_actions,
                }
            ],
        }
    ]
    return doc


@pytest.mark.parametrize(
    ("not_data_actions", "granted"),
    [([], True), (["Microsoft.KeyVault/vaults/secrets/getSecret/action"], False)],
)
def test_resource_group_custom_role_counts_unless_not_data_actions_exclude_get_secret(
    not_data_actions: list[str], granted: bool
) -> None:
    sandbox = Sandbox(_with_custom_role(not_data_actions), page_size=2)
    principal = sandbox.principal_of("contosocache", "quay-io")
    sandbox.add_role_assignment(
        principal, CUSTOM_ROLE, f"/subscriptions/{SUB}/resourceGroups/rg-secrets"
    )
    ctx = context(sandbox, "report")
    dispatch(ctx, PULL_FAILED, failure(), signal_id="s1")
    denied = [f for f in findings(ctx) if f.kind == "access-denied"]
    assert (denied == []) is granted
    assert (sandbox.health("contosocache", "quay-io").status == "Healthy") is granted


def test_conditional_assignments_are_reported_as_unverifiable(sandbox: Sandbox) -> None:
    principal = sandbox.principal_of("contosocache", "quay-io")
    sandbox.add_role_assignment(
        principal,
        KEY_VAULT_SECRETS_USER,
        {"vault": "kv-cache-rbac"},
        condition="@Resource[x] StringEquals 'y'",
    )
    ctx = context(sandbox, "fix")
    dispatch(ctx, PULL_FAILED, failure(), signal_id="s1")
    assert {f.kind for f in findings(ctx)} >= {"access-unverifiable"}
    assert not any(w for w in sandbox.log.writes() if "roleAssignments" in w.path)


@pytest.mark.parametrize("has_get", [True, False])
def test_access_policy_vaults_are_checked_and_never_edited(sandbox: Sandbox, has_get: bool) -> None:
    principal = sandbox.principal_of("contosocache", "ghcr-acme")
    sandbox.set_access_policy(
        "kv-cache-policies", principal, ["get", "list"] if has_get else ["list"]
    )
    ctx = context(sandbox, "fix")
    dispatch(ctx, PULL_FAILED, failure("ghcr/acme/tools/cli"), signal_id="s1")
    denied = [f for f in findings(ctx) if f.kind == "access-denied"]
    if has_get:
        assert denied == []
    else:
        assert denied and all("az keyvault set-policy" in f.fix for f in denied)
        assert all("access policies" in f.message for f in denied)
    assert sandbox.log.writes() == []


def test_a_burst_of_failures_is_diagnosed_once_with_at_most_one_grant_per_secret(
    sandbox: Sandbox,
) -> None:
    ctx = context(sandbox, "fix")
    statuses = [dispatch(ctx, PULL_FAILED, failure(), signal_id=f"s{i}").status for i in range(100)]
    assert statuses.count(ReactionStatus.APPLIED) == 1
    assert statuses.count(ReactionStatus.DUPLICATE) == 99
    role_puts = [w for w in sandbox.log.writes() if "roleAssignments" in w.path]
    assert len(role_puts) == 2  # one per secret of the one credential set
    listings = [r for r in sandbox.log.all() if r.method == "GET" and "roleAssignments" in r.path]
    assert len(listings) <= 4


def test_a_healthy_credential_set_reports_no_problem(sandbox: Sandbox) -> None:
    ctx = context(sandbox, "fix")
    reaction = dispatch(ctx, PULL_FAILED, failure("dockerhub/library/nginx", 500), signal_id="s1")
    assert reaction.status is ReactionStatus.NO_CHANGE
    assert findings(ctx) == []
    assert sandbox.log.writes() == []


def test_unmanaged_registries_and_uncached_repositories(sandbox: Sandbox) -> None:
    ctx = context(sandbox, "fix")
    other = ResourceId.parse(
        f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/elsewhere"
    )
    assert (
        dispatch(
            ctx, PULL_FAILED, PullFailure(other, TargetPath.parse("a/b"), 401), signal_id="s1"
        ).status
        is ReactionStatus.IGNORED
    )
    assert (
        dispatch(ctx, PULL_FAILED, failure("team-a/api", 401), signal_id="s2").status
        is ReactionStatus.REPORTED
    )
    assert sandbox.log.writes() == []
