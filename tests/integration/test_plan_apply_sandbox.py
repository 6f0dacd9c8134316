"""Plan then apply equals what the event reaction does for the same state; stale plans are refused.

Each comparison runs on two fresh demo sandboxes in the same state: one reacts to the event, the
other is planned and applied through `shared.services.plans`. The writes they receive (method,
path, body) and the state they end in must be the same.
"""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from sandbox import Sandbox
from shared.adapters.memory import MemoryJournal, MemoryPolicyStore, MemoryReportStore
from shared.domain.ids import ResourceId
from shared.domain.plans import ActionKind, Outcome, OutcomeStatus
from shared.domain.policies import Policy
from shared.domain.repositories import TargetPath
from shared.errors import InvalidInputError, NotFoundError
from shared.services import Context, ReactionStatus
from shared.services.audit import run_audit
from shared.services.plans import StalePlanError, apply_scope, parse_scope, plan_scope
from shared.services.reactions import dispatch, react
from shared.signals import KEY_VAULT
from shared.signals.pull_failures import PULL_FAILED, PullFailure
from tests.integration.app_context import REGISTRIES, SUB, demo_settings, sandbox_context
from tests.integration.conftest import _demo_document

CONTOSO = ResourceId.parse(REGISTRIES["contosocache"])
FABRIKAM = ResourceId.parse(REGISTRIES["fabrikamcache"])
NEW_VERSION = "0123456789abcdef0123456789abcdef"


def fresh(rotated: tuple[str, str] | None = None) -> Sandbox:
    """A demo sandbox; with `rotated=(vault, secret)`, that secret has a new current version."""
    document = copy.deepcopy(_demo_document())
    if rotated is not None:
        vault = next(v for v in document["vaults"] if v["name"] == rotated[0])
        secret = next(s for s in vault["secrets"] if s["name"] == rotated[1])
        secret["versions"].append({"version": NEW_VERSION, "created": "-1h", "exp": "+90d"})
    return Sandbox(document, page_size=2)


def new_version_event(vault: str, secret: str) -> dict[str, Any]:
    """The SecretNewVersionCreated event Key Vault sends for NEW_VERSION (Event Grid schema)."""
    return {
        "id": f"evt-{secret}", "subject": secret, "eventType": "Microsoft.KeyVault.SecretNewVersionCreated",
        "topic": f"/subscriptions/{SUB}/resourceGroups/rg-secrets/providers/Microsoft.KeyVault/vaults/{vault}",
        "eventTime": "2025-01-01T00:00:00Z", "dataVersion": "1", "metadataVersion": "1",
        "data": {"Id": f"https://{vault}.vault.azure.net/secrets/{secret}/{NEW_VERSION}", "VaultName": vault,
                 "ObjectType": "Secret", "ObjectName": secret, "Version": NEW_VERSION, "NBF": None, "EXP": None},
    }  # fmt: skip


def context(sandbox: Sandbox, **settings: str) -> Context:
    policies = MemoryPolicyStore([Policy.from_dict(p) for p in sandbox.scenario.policies])
    ctx = sandbox_context(
        sandbox, settings=demo_settings(**settings), policies=policies, journal=MemoryJournal()
    )
    return replace(ctx, reports=MemoryReportStore())


def writes(sandbox: Sandbox) -> list[tuple[str, str, Any]]:
    """What reached Azure, in a comparable form (order-free: independent calls run concurrently)."""
    found = []
    for record in sandbox.log.writes():
        try:
            body = json.loads(record.body) if record.body else None
        except ValueError:
            body = record.body
        found.append((record.method, record.path.lower(), json.dumps(body, sort_keys=True)))
    return sorted(found)


def twins(
    rotated: tuple[str, str] | None = None, **settings: str
) -> tuple[Sandbox, Context, Sandbox, Context]:
    event_side, plan_side = fresh(rotated), fresh(rotated)
    return event_side, context(event_side, **settings), plan_side, context(plan_side, **settings)


def plan_and_apply(ctx: Context, body: dict[str, str]) -> tuple[str, tuple[Outcome, ...]]:
    scope = parse_scope(ctx, body)
    planned = plan_scope(ctx, scope)
    applied = apply_scope(ctx, scope, planned.plan.id)
    return planned.plan.id, applied.outcomes


def test_a_rotation_event_and_plan_apply_make_the_same_writes() -> None:
    event_side, event_ctx, plan_side, plan_ctx = twins(("kv-cache-policies", "ghcr-password"))

    reaction = react(KEY_VAULT, new_version_event("kv-cache-policies", "ghcr-password"), event_ctx)
    _, outcomes = plan_and_apply(
        plan_ctx, {"registry": "contosocache", "credentialSet": "ghcr-acme"}
    )

    assert reaction.status is ReactionStatus.APPLIED
    assert writes(event_side) == writes(plan_side) != []
    for sandbox in (event_side, plan_side):
        (credential,) = sandbox.credential_set("contosocache", "ghcr-acme").credentials
        assert credential.password_uri.endswith(NEW_VERSION)
    assert [o.action for o in outcomes] == [ActionKind.UPDATE_CREDENTIAL_SET]


def test_a_versionless_rotation_after_a_known_refresh_is_planned_like_the_event() -> None:
    event_side, event_ctx, plan_side, plan_ctx = twins(("kv-cache-rbac", "dockerhub-password"))
    for sandbox, ctx in ((event_side, event_ctx), (plan_side, plan_ctx)):
        for registry in (CONTOSO, FABRIKAM):  # both dockerhub sets were refreshed a day ago
            resource = str(registry.child("credentialSets", "dockerhub"))
            ctx.journal.record_outcome(Outcome("earlier", resource, OutcomeStatus.SUCCEEDED, "refreshed",
                                               sandbox.clock.now() - timedelta(days=1), ActionKind.REFRESH_CREDENTIAL_SET))  # fmt: skip

    react(KEY_VAULT, new_version_event("kv-cache-rbac", "dockerhub-password"), event_ctx)
    for registry in ("contosocache", "fabrikamcache"):
        plan_and_apply(plan_ctx, {"registry": registry, "credentialSet": "dockerhub"})

    patched = [w for w in writes(event_side) if w[0] == "PATCH"]
    assert len(patched) == 2
    assert writes(event_side) == writes(plan_side)


def test_an_access_repair_by_pull_failure_equals_plan_apply_of_the_repository() -> None:
    event_side, event_ctx, plan_side, plan_ctx = twins(REMEDIATION_MODE="fix")
    failure = PullFailure(CONTOSO, TargetPath.parse("quay/prometheus/prometheus"), 401)

    reaction = dispatch(event_ctx, PULL_FAILED, failure, signal_id="pull-1")
    _, outcomes = plan_and_apply(
        plan_ctx, {"registry": "contosocache", "repository": "quay/prometheus/prometheus"}
    )

    assert reaction.status is ReactionStatus.APPLIED
    assert sorted(o.action.value for o in outcomes if o.action) == [
        "grant-secret-read", "grant-secret-read", "refresh-credential-set"]  # fmt: skip
    assert writes(event_side) == writes(plan_side)
    for sandbox in (event_side, plan_side):
        assert sandbox.health("contosocache", "quay-io").status == "Healthy"


def test_a_new_repository_by_404_equals_plan_apply_of_the_repository() -> None:
    event_side, event_ctx, plan_side, plan_ctx = twins()
    failure = PullFailure(FABRIKAM, TargetPath.parse("dockerhub/library/python"), 404)

    reaction = dispatch(event_ctx, PULL_FAILED, failure, signal_id="pull-404")
    _, outcomes = plan_and_apply(
        plan_ctx, {"registry": "fabrikamcache", "repository": "dockerhub/library/python"}
    )

    assert reaction.status is ReactionStatus.APPLIED
    assert [o.action for o in outcomes] == [ActionKind.CREATE_CACHE_RULE]
    assert writes(event_side) == writes(plan_side) != []


def test_a_stale_plan_is_refused_with_the_new_plan_and_nothing_is_written() -> None:
    sandbox = fresh()
    ctx = context(sandbox)
    scope = parse_scope(ctx, {"registry": "contosocache", "credentialSet": "ghcr-acme"})
    old = plan_scope(ctx, scope)
    sandbox.add_secret_version("kv-cache-policies", "ghcr-password", expires="+60d")
    sandbox.log.clear()

    with pytest.raises(StalePlanError) as refused:
        apply_scope(ctx, scope, old.plan.id)

    assert sandbox.log.writes() == []
    new = refused.value.current
    assert new.plan.id != old.plan.id
    assert (
        new.plan.actions[0].changes.to_dict()["password"]["to"]
        != old.plan.actions[0].changes.to_dict()["password"]["to"]
    )
    applied = apply_scope(ctx, scope, new.plan.id)
    assert applied.status is ReactionStatus.APPLIED
    with pytest.raises(StalePlanError) as again:  # applying twice: state moved, nothing left
        apply_scope(ctx, scope, new.plan.id)
    assert again.value.current.plan.actions == ()


def test_planning_writes_nothing_is_deterministic_and_matches_the_audit_plan() -> None:
    sandbox = fresh()
    ctx = context(sandbox)
    everything = parse_scope(ctx, {})
    first, second = plan_scope(ctx, everything), plan_scope(ctx, everything)
    report = run_audit(ctx, reconcile=False)
    assert first.plan.id == second.plan.id == report.plan.id
    assert sandbox.log.writes() == []
    registry = plan_scope(ctx, parse_scope(ctx, {"registry": "fabrikamcache"}))
    assert registry.plan.actions == ()
    assert registry.to_dict()["scope"] == {"kind": "registry", "registry": "fabrikamcache",
                                            "credentialSet": None, "repository": None}  # fmt: skip


def test_a_credential_set_scope_keeps_only_what_concerns_it() -> None:
    ctx = context(fresh(), REMEDIATION_MODE="fix")
    quay = plan_scope(
        ctx, parse_scope(ctx, {"registry": "contosocache", "credentialSet": "quay-io"})
    )
    kinds = sorted(a.kind.value for a in quay.plan.actions)
    assert kinds == ["grant-secret-read", "grant-secret-read", "refresh-credential-set"]
    assert {f.kind for f in quay.plan.findings} >= {"access-denied", "secret-expiry"}
    assert all("ghcr" not in f.resource for f in quay.plan.findings)


def test_a_repository_served_by_an_anonymous_rule_has_nothing_to_plan() -> None:
    ctx = context(fresh())
    scoped = plan_scope(ctx, parse_scope(ctx, {"registry": "contosocache", "repository": "mcr/dotnet/runtime"}))  # fmt: skip
    assert scoped.plan.actions == ()
    assert [f.kind for f in scoped.plan.findings] == ["rule-without-credential-set"]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"credentialSet": "quay-io"}, InvalidInputError),
        ({"registry": "contosocache", "credentialSet": "quay-io", "repository": "a/b"}, InvalidInputError),
        ({"registry": "elsewhere"}, NotFoundError),
        ({"registry": "contosocache", "credentialSet": "x"}, InvalidInputError),
        ({"registry": "contosocache", "repository": "Not A Path!"}, InvalidInputError),
        ({"registry": "contosocache", "scope": "all"}, InvalidInputError),
        ({"planId": "abc"}, InvalidInputError),
        ([], InvalidInputError),
    ],
)  # fmt: skip
def test_bad_scopes_are_refused_with_a_typed_error(body: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_scope(context(fresh()), body)


def test_an_absent_credential_set_is_not_found() -> None:
    ctx = context(fresh())
    with pytest.raises(NotFoundError):
        plan_scope(
            ctx, parse_scope(ctx, {"registry": "fabrikamcache", "credentialSet": "ghcr-acme"})
        )
