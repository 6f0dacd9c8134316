"""cachekeeper never grants a role to its own identity (APP_PRINCIPAL_ID): whatever planned the
grant, the applier refuses it before any write, for secret reads and for pull rights alike."""

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
from shared.domain.actions import PullGrant, SecretReadGrant
from shared.domain.ids import ResourceId
from shared.domain.models import KEY_VAULT_SECRETS_USER
from shared.domain.plans import Action, ActionKind, OutcomeStatus
from shared.domain.pullers import ACR_PULL
from shared.errors import ConfigurationError
from shared.services import Context
from shared.services.appliers import apply_actions
from shared.settings import Settings

SUB = "00000000-0000-0000-0000-000000000001"
REGISTRY = f"/subscriptions/{SUB}/resourceGroups/rg-cache/providers/Microsoft.ContainerRegistry/registries/contosocache"
SECRET = f"/subscriptions/{SUB}/resourceGroups/rg-kv/providers/Microsoft.KeyVault/vaults/kv/secrets/quay-password"
CREDENTIAL_SET = f"{REGISTRY}/credentialSets/quay-io"
APP = "a0a0a0a0-5555-6666-7777-888888888888"
OTHER = "b1b1b1b1-5555-6666-7777-888888888888"


def make(app_principal: str | None = APP) -> tuple[Context, MemoryAccess]:
    env = {"CACHEKEEPER_MODE": "sandbox", "MANAGED_REGISTRIES": REGISTRY, "REMEDIATION_MODE": "fix"}
    if app_principal is not None:
        env["APP_PRINCIPAL_ID"] = app_principal
    access = MemoryAccess()
    ctx = Context(
        Settings.from_env(env),
        MemoryRegistry([ResourceId.parse(REGISTRY)]),
        MemorySecrets(),
        access,
        MemoryPolicyStore(),
        MemoryJournal(),
        FixedClock(datetime(2026, 12, 1, tzinfo=UTC)),
    )
    return ctx, access


def secret_read(principal: str) -> Action:
    grant = SecretReadGrant(principal, KEY_VAULT_SECRETS_USER, CREDENTIAL_SET)
    return Action(ActionKind.GRANT_SECRET_READ, SECRET, "test", grant)


def pull(principal: str) -> Action:
    return Action(
        ActionKind.GRANT_PULL, REGISTRY, "test", PullGrant(principal, ACR_PULL, "a", "row")
    )


@pytest.mark.parametrize("action", [secret_read, pull], ids=["secret-read", "pull"])
@pytest.mark.parametrize(
    "principal", [APP, APP.upper(), f" {APP} "], ids=["as-is", "upper", "padded"]
)
def test_a_grant_to_the_apps_own_identity_is_refused_and_nothing_is_written(
    action: object, principal: str
) -> None:
    ctx, access = make()
    (outcome,) = apply_actions(ctx, [action(principal)], signal_id="s")  # type: ignore[operator]
    assert outcome.status is OutcomeStatus.FAILED
    assert "own identity" in outcome.reason
    assert access.grants == []


@pytest.mark.parametrize("action", [secret_read, pull], ids=["secret-read", "pull"])
def test_grants_to_other_identities_still_go_through(action: object) -> None:
    ctx, access = make()
    apply_actions(ctx, [action(OTHER)], signal_id="s")  # type: ignore[operator]
    assert [g.principal_id for g in access.grants] == [OTHER]


def test_the_app_principal_setting_must_be_a_guid() -> None:
    with pytest.raises(ConfigurationError, match="APP_PRINCIPAL_ID"):
        make("not-a-guid")
