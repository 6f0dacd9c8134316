"""The product against Key Vault's real read semantics, over the sandbox (docs/fidelity.md, Key
Vault): a disabled latest version breaks a versionless reference, versions created in one second
are ordered by the rotation events, and a compound-identity access policy is no grant."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import azure.functions as func
import pytest

from sandbox import Sandbox
from shared import bootstrap
from shared.adapters.memory import MemoryJournal
from shared.domain.actions import CredentialSetSecrets
from shared.domain.ids import ResourceId
from shared.domain.plans import Action, ActionKind, OutcomeStatus, Severity
from shared.domain.secrets import SecretRef
from shared.services import Context, ReactionStatus
from shared.services.appliers import apply_actions
from shared.services.pull_failures import access_report
from shared.services.reactions import react
from shared.signals import KEY_VAULT
from tests.conftest import load_event
from tests.function_index import indexed_functions, invocation
from tests.integration.app_context import REGISTRIES, VAULTS, demo_settings, sandbox_context

PASSWORD = SecretRef.parse("https://kv-cache-rbac.vault.azure.net/secrets/dockerhub-password")
USERNAME = SecretRef.parse("https://kv-cache-rbac.vault.azure.net/secrets/dockerhub-username")
SETS = [ResourceId.parse(r).child("credentialSets", "dockerhub") for r in REGISTRIES.values()]
QUAY = ResourceId.parse(REGISTRIES["contosocache"]).child("credentialSets", "quay-io")
A_LATER = "0000000000000000000000000000000b"  # created second, but sorts first by id
AN_EARLIER = "ffffffffffffffffffffffffffffffaa"


def context(sandbox: Sandbox, **settings: str) -> Context:
    return sandbox_context(sandbox, settings=demo_settings(**settings), journal=MemoryJournal())


def journal(ctx: Context) -> MemoryJournal:
    assert isinstance(ctx.journal, MemoryJournal)
    return ctx.journal


def writes(sandbox: Sandbox) -> int:
    """ARM and Key Vault writes since the log was last cleared."""
    return len(sandbox.log.writes())


# -- a disabled latest version under a versionless reference ------------------------------------


def test_a_disabled_latest_version_is_critical_and_not_refreshed_in_vain(sandbox: Sandbox) -> None:
    ctx = context(sandbox)
    disabled = sandbox.add_secret_version("kv-cache-rbac", "dockerhub-password", enabled=False)
    sandbox.log.clear()
    reaction = react(KEY_VAULT, disabled["eventGrid"], ctx)
    assert writes(sandbox) == 0  # a refresh would re-read the disabled version: nothing planned
    assert reaction.plan is not None and not reaction.plan.actions
    critical = [f for f in reaction.plan.findings if f.kind == "versionless-latest-disabled"]
    assert {f.resource.lower() for f in critical} == {str(s).lower() for s in SETS}
    assert all(f.severity is Severity.CRITICAL for f in critical)
    assert not [o for o in journal(ctx).outcome_log if o.status is OutcomeStatus.SUCCEEDED]
    # the diagnosis (pull failures, GET .../access) says the same, although older versions are enabled
    report = access_report(ctx, "contosocache", "dockerhub")
    assert report.plan is not None
    (unusable,) = [f for f in report.plan.findings if f.kind == "secret-unusable"]
    assert unusable.severity is Severity.CRITICAL
    assert disabled["version"] in unusable.message and "403" in unusable.message


def test_pinning_to_the_newest_valid_version_is_a_policy_controlled_remedy(
    sandbox: Sandbox,
) -> None:
    ctx = context(sandbox, REMEDIATION_MODE="fix", PIN_ON_DISABLED_LATEST="true")
    valid = sandbox.secret_version("kv-cache-rbac", "dockerhub-password").version
    disabled = sandbox.add_secret_version("kv-cache-rbac", "dockerhub-password", enabled=False)
    reaction = react(KEY_VAULT, disabled["cloudEvent"], ctx)
    assert reaction.status is ReactionStatus.APPLIED
    for credential_set in SETS:
        current = ctx.registry.get_credential_set(credential_set)
        assert current.password == PASSWORD.with_version(valid)
        assert current.username == USERNAME  # only the broken reference is pinned
        assert current.health.is_healthy
    moved = [o for o in journal(ctx).outcome_log if o.action is ActionKind.UPDATE_CREDENTIAL_SET]
    assert len(moved) == 2 and all(o.status is OutcomeStatus.SUCCEEDED for o in moved)


def test_pinning_stays_off_by_default_even_in_fix_mode(sandbox: Sandbox) -> None:
    ctx = context(sandbox, REMEDIATION_MODE="fix")
    disabled = sandbox.add_secret_version("kv-cache-rbac", "dockerhub-password", enabled=False)
    sandbox.log.clear()
    react(KEY_VAULT, disabled["eventGrid"], ctx)
    assert writes(sandbox) == 0
    assert ctx.registry.get_credential_set(SETS[0]).password == PASSWORD


def _near_expiry(sandbox: Sandbox, secret: str) -> dict[str, Any]:
    event = copy.deepcopy(load_event("keyvault.SecretNearExpiry.eventgrid.derived.json"))
    assert isinstance(event, dict)
    version = sandbox.secret_version("kv-cache-rbac", secret).version
    event["topic"] = VAULTS["kv-cache-rbac"]
    event["subject"] = secret
    event["data"].update(
        Id=f"https://kv-cache-rbac.vault.azure.net/secrets/{secret}/{version}",
        VaultName="kv-cache-rbac", ObjectName=secret, Version=version,
    )  # fmt: skip
    return event


def test_near_expiry_plans_no_refresh_for_an_access_denied_set_in_report_mode(
    sandbox: Sandbox,
) -> None:
    ctx = context(sandbox)
    assert sandbox.health("contosocache", "quay-io").error_code == "AccessDenied"  # demo: no grant
    sandbox.log.clear()
    reaction = react(KEY_VAULT, _near_expiry(sandbox, "quay-password"), ctx)
    assert reaction.plan is not None and not reaction.plan.actions
    assert writes(sandbox) == 0
    assert reaction.status is ReactionStatus.REPORTED


def test_a_refresh_read_back_unhealthy_is_never_journalled_succeeded(sandbox: Sandbox) -> None:
    ctx = context(sandbox)
    current = ctx.registry.get_credential_set(QUAY)
    refresh = Action(
        ActionKind.REFRESH_CREDENTIAL_SET, str(QUAY), "re-send",
        CredentialSetSecrets.resend(current.username, current.password),
    )  # fmt: skip
    (outcome,) = apply_actions(ctx, [refresh], signal_id="test-refresh")
    assert outcome.health == "Unhealthy"
    # pending verification (ACR re-evaluates health on its own schedule), never succeeded
    assert outcome.status is OutcomeStatus.PENDING_VERIFICATION


# -- two versions created in the same second ----------------------------------------------------


def _pin_to_current(sandbox: Sandbox, ctx: Context) -> None:
    current = sandbox.secret_version("kv-cache-rbac", "dockerhub-password").version
    for credential_set in SETS:
        ctx.registry.update_credential_set(
            credential_set, username=USERNAME, password=PASSWORD.with_version(current)
        )


def _two_in_one_second(sandbox: Sandbox) -> tuple[dict[str, Any], dict[str, Any]]:
    sandbox.clock.set(datetime(2026, 12, 1, 9, 0, 0, 100_000, tzinfo=UTC))
    first = sandbox.add_secret_version("kv-cache-rbac", "dockerhub-password", version_id=AN_EARLIER)
    sandbox.clock.advance(0.4)
    second = sandbox.add_secret_version("kv-cache-rbac", "dockerhub-password", version_id=A_LATER)
    return first, second


def _passwords(ctx: Context) -> set[str | None]:
    return {ctx.registry.get_credential_set(s).password.version for s in SETS}


ORDERS = ["created", "newest-first", "version-id"]  # Key Vault documents none: each answer


@pytest.mark.parametrize("order", ORDERS)
def test_events_order_versions_created_in_one_second(sandbox: Sandbox, order: str) -> None:
    sandbox.options.kv_versions_order = order
    ctx = context(sandbox)
    _pin_to_current(sandbox, ctx)
    first, second = _two_in_one_second(sandbox)
    react(KEY_VAULT, first["eventGrid"], ctx)  # only the first is announced: order unknown
    react(KEY_VAULT, second["eventGrid"], ctx)
    assert _passwords(ctx) == {A_LATER}


@pytest.mark.parametrize("order", ORDERS)
def test_events_delivered_out_of_order_still_end_on_the_latest(
    sandbox: Sandbox, order: str
) -> None:
    sandbox.options.kv_versions_order = order
    ctx = context(sandbox)
    _pin_to_current(sandbox, ctx)
    first, second = _two_in_one_second(sandbox)
    react(KEY_VAULT, second["cloudEvent"], ctx)
    assert _passwords(ctx) != {AN_EARLIER}  # never the older one, even before the other event
    react(KEY_VAULT, first["cloudEvent"], ctx)
    assert _passwords(ctx) == {A_LATER}


@pytest.fixture
def wired(sandbox: Sandbox) -> Iterator[Context]:
    ctx = context(sandbox)
    bootstrap.configure(context=ctx)
    yield ctx
    bootstrap.reset()


def _sync(registry: str, name: str) -> Any:
    request = func.HttpRequest(
        "POST", f"/api/credential-sets/{registry}/{name}/sync", body=b"",
        route_params={"registry": registry, "name": name},
    )  # fmt: skip
    response = indexed_functions()["sync_credential_set"].get_user_function()(
        request, invocation("sync_credential_set")
    )
    assert isinstance(response, func.HttpResponse)
    assert response.status_code == 200, response.get_body()
    return json.loads(response.get_body())


@pytest.mark.parametrize("order", ORDERS)
def test_sync_uses_the_recorded_events_and_reports_when_none_tell_the_order(
    sandbox: Sandbox, wired: Context, order: str
) -> None:
    sandbox.options.kv_versions_order = order
    _pin_to_current(sandbox, wired)
    before = _passwords(wired)
    first, second = _two_in_one_second(sandbox)
    unknown = _sync("contosocache", "dockerhub")  # no event handled yet: the order is unknown
    assert _passwords(wired) == before  # not moved to either: the planner does not guess
    assert not [a for a in unknown["plan"]["actions"] if a["kind"] == "update-credential-set"]
    kinds = {f["kind"] for f in unknown["plan"]["findings"]}
    assert "secret-version-order-unknown" in kinds
    # the events arrive (the second first); a sync afterwards ends on the latest one too
    react(KEY_VAULT, second["eventGrid"], wired)
    react(KEY_VAULT, first["eventGrid"], wired)
    _sync("fabrikamcache", "dockerhub")
    assert _passwords(wired) == {A_LATER}


# -- compound identities ------------------------------------------------------------------------


def test_a_compound_identity_access_policy_is_reported_as_no_grant(sandbox: Sandbox) -> None:
    ctx = context(sandbox)
    principal = sandbox.principal_of("contosocache", "ghcr-acme")
    application = "11111111-2222-3333-4444-555555555555"
    sandbox.set_access_policy(
        "kv-cache-policies", principal, ["get", "list"], application_id=application
    )
    report = access_report(ctx, "contosocache", "ghcr-acme")
    assert report.plan is not None
    denied = [f for f in report.plan.findings if f.kind == "access-denied"]
    assert denied and all("compound identity" in f.message for f in denied)
    assert application in denied[0].message
