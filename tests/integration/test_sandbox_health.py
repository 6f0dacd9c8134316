"""credentialHealth is computed from grants, permission model and secret validity.

These tests are about the rules, so they ask for instant Azure (health evaluated on every read,
grants effective at once); how health lags and grants take effect late is
tests/integration/test_sandbox_timing.py."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError
from azure.mgmt.authorization.models import RoleAssignmentCreateParameters

from sandbox import Sandbox
from tests.integration.conftest import RG_CACHE, SUBSCRIPTION, SdkClients

pytestmark = pytest.mark.instant_azure

SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
ROLE_ID = f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/{SECRETS_USER}"


def _health(clients: SdkClients, registry: str, name: str) -> tuple[str, str | None]:
    cred = clients.acr.credential_sets.get(RG_CACHE, registry, name)
    health = cred.auth_credentials[0].credential_health
    return health.status.value, health.error_code


def _grant(clients: SdkClients, principal: str, scope: str) -> None:
    clients.authorization.role_assignments.create(
        scope,
        str(uuid.uuid4()),
        RoleAssignmentCreateParameters(
            role_definition_id=ROLE_ID, principal_id=principal, principal_type="ServicePrincipal"
        ),
    )


def test_removing_the_grant_flips_to_unhealthy_and_secret_scope_grants_flip_back(
    sdk_clients: SdkClients, sandbox: Sandbox
) -> None:
    principal = sandbox.principal_of("contosocache", "dockerhub")
    vault = sandbox.vault("kv-cache-rbac")
    assert _health(sdk_clients, "contosocache", "dockerhub") == ("Healthy", None)

    listed = sdk_clients.authorization.role_assignments.list_for_scope(
        vault.id, filter=f"principalId eq '{principal}'"
    )
    for assignment in listed:  # secret-scoped grants are "below" the vault scope
        sdk_clients.authorization.role_assignments.delete(assignment.scope, assignment.name)
    assert _health(sdk_clients, "contosocache", "dockerhub") == ("Unhealthy", "AccessDenied")

    _grant(sdk_clients, principal, vault.secret_scope("dockerhub-username"))
    assert _health(sdk_clients, "contosocache", "dockerhub") == ("Unhealthy", "AccessDenied")
    _grant(sdk_clients, principal, vault.secret_scope("dockerhub-password"))
    assert _health(sdk_clients, "contosocache", "dockerhub") == ("Healthy", None)


def test_identical_assignment_is_a_conflict(sdk_clients: SdkClients, sandbox: Sandbox) -> None:
    principal = sandbox.principal_of("contosocache", "dockerhub")
    scope = sandbox.vault("kv-cache-rbac").secret_scope("dockerhub-username")
    with pytest.raises(ResourceExistsError) as info:
        _grant(sdk_clients, principal, scope)
    assert info.value.error is not None and info.value.error.code == "RoleAssignmentExists"


def test_vault_wide_and_subscription_grants_also_count(
    sdk_clients: SdkClients, sandbox: Sandbox
) -> None:
    principal = sandbox.principal_of("contosocache", "quay-io")
    assert _health(sdk_clients, "contosocache", "quay-io") == ("Unhealthy", "AccessDenied")
    _grant(sdk_clients, principal, f"/subscriptions/{SUBSCRIPTION}")
    assert _health(sdk_clients, "contosocache", "quay-io") == ("Healthy", None)


def test_reader_role_does_not_grant_get_secret(sandbox: Sandbox, sdk_clients: SdkClients) -> None:
    principal = sandbox.principal_of("contosocache", "quay-io")
    sandbox.add_role_assignment(principal, "Key Vault Reader", {"vault": "kv-cache-rbac"})
    assert _health(sdk_clients, "contosocache", "quay-io") == ("Unhealthy", "AccessDenied")


def test_custom_role_wildcards_and_not_data_actions(
    sandbox: Sandbox, sdk_clients: SdkClients
) -> None:
    sandbox.load_scenario(
        {
            **sandbox.scenario.raw,
            "roleDefinitions": [
                {
                    "id": "11111111-2222-3333-4444-555555555555",
                    "roleName": "Secrets but not values",
                    "permissions": [
                        {
                            "dataActions": ["Microsoft.KeyVault/vaults/secrets/*"],
                            "notDataActions": [
                                "Microsoft.KeyVault/vaults/secrets/getSecret/action"
                            ],
                        }
                    ],
                },
                {
                    "id": "66666666-2222-3333-4444-555555555555",
                    "roleName": "Vault everything",
                    "permissions": [{"dataActions": ["Microsoft.KeyVault/vaults/*"]}],
                },
            ],
        }
    )
    principal = sandbox.principal_of("contosocache", "quay-io")
    sandbox.add_role_assignment(principal, "Secrets but not values", {"vault": "kv-cache-rbac"})
    assert _health(sdk_clients, "contosocache", "quay-io")[1] == "AccessDenied"
    sandbox.add_role_assignment(
        principal, "66666666-2222-3333-4444-555555555555", {"vault": "kv-cache-rbac"}
    )
    assert _health(sdk_clients, "contosocache", "quay-io") == ("Healthy", None)


def test_access_policy_vault(sdk_clients: SdkClients, sandbox: Sandbox) -> None:
    principal = sandbox.principal_of("contosocache", "ghcr-acme")
    assert _health(sdk_clients, "contosocache", "ghcr-acme") == ("Healthy", None)

    sandbox.set_access_policy("kv-cache-policies", principal, ["list"])
    assert _health(sdk_clients, "contosocache", "ghcr-acme") == ("Unhealthy", "AccessDenied")
    # RBAC grants do not count on an access-policy vault.
    sandbox.add_role_assignment(principal, "Key Vault Secrets User", {"vault": "kv-cache-policies"})
    assert _health(sdk_clients, "contosocache", "ghcr-acme") == ("Unhealthy", "AccessDenied")
    sandbox.set_access_policy("kv-cache-policies", principal, ["Get"])
    assert _health(sdk_clients, "contosocache", "ghcr-acme") == ("Healthy", None)

    vault = sdk_clients.keyvault.vaults.get("rg-secrets", "kv-cache-policies")
    assert vault.properties.enable_rbac_authorization is False
    assert [p.object_id for p in vault.properties.access_policies] == [principal]


def test_disabled_versions_break_reads_but_nbf_and_exp_do_not(
    sdk_clients: SdkClients, sandbox: Sandbox
) -> None:
    """Key Vault answers 403 for a disabled version and does not enforce nbf/exp on reads
    (docs/fidelity.md, Key Vault): only a disabled version makes the credential set Unhealthy."""
    now = datetime(2026, 6, 1, tzinfo=UTC)
    sandbox.clock.set(now)
    sandbox.disable_secret_version("kv-cache-rbac", "dockerhub-password")  # current version
    assert _health(sdk_clients, "contosocache", "dockerhub") == ("Unhealthy", "SecretDisabled")

    sandbox.enable_secret_version("kv-cache-rbac", "dockerhub-password")
    sandbox.set_secret_expiry(
        "kv-cache-rbac", "dockerhub-password", None, now - timedelta(seconds=1)
    )
    assert _health(sdk_clients, "contosocache", "dockerhub") == ("Healthy", None)  # expired

    sandbox.add_secret_version(
        "kv-cache-rbac", "dockerhub-password", not_before=now + timedelta(days=1)
    )
    assert _health(sdk_clients, "contosocache", "dockerhub") == ("Healthy", None)  # not yet valid


def test_a_disabled_latest_version_breaks_a_versionless_reference_despite_older_enabled_ones(
    sdk_clients: SdkClients, sandbox: Sandbox
) -> None:
    secrets = sdk_clients.secret_client("kv-cache-rbac")
    older = sandbox.secret_version("kv-cache-rbac", "dockerhub-password").version
    sandbox.add_secret_version("kv-cache-rbac", "dockerhub-password", enabled=False)
    assert _health(sdk_clients, "contosocache", "dockerhub") == ("Unhealthy", "SecretDisabled")
    # through the SDK: the versionless read is the 403 of the disabled latest version ...
    with pytest.raises(HttpResponseError) as denied:
        secrets.get_secret("dockerhub-password")
    assert denied.value.status_code == 403
    assert denied.value.error is not None and denied.value.error.code == "Forbidden"
    body = denied.value.response.json()  # type: ignore[union-attr]
    assert body["error"]["innerError"] == {"code": "SecretDisabled"}  # as Key Vault spells it
    # ... while the older version, named, still reads
    assert secrets.get_secret("dockerhub-password", older).properties.version == older


def test_pinned_version_follows_only_its_own_version(
    sdk_clients: SdkClients, sandbox: Sandbox
) -> None:
    sandbox.add_secret_version("kv-cache-policies", "ghcr-password", enabled=False)
    assert _health(sdk_clients, "contosocache", "ghcr-acme") == (
        "Healthy",
        None,
    )  # pinned, unaffected
    pinned = sandbox.credential_set("contosocache", "ghcr-acme").credentials[0].password_uri
    sandbox.disable_secret_version("kv-cache-policies", "ghcr-password", pinned.rsplit("/", 1)[-1])
    assert _health(sdk_clients, "contosocache", "ghcr-acme") == ("Unhealthy", "SecretDisabled")


def test_missing_secret_and_vault(sdk_clients: SdkClients, sandbox: Sandbox) -> None:
    cred = sandbox.credential_set("contosocache", "quay-io")
    cred.credentials[0].username_uri = "https://kv-cache-rbac.vault.azure.net/secrets/nope"
    sandbox.add_role_assignment(
        cred.principal_id or "", "Key Vault Secrets User", {"vault": "kv-cache-rbac"}
    )
    assert _health(sdk_clients, "contosocache", "quay-io") == ("Unhealthy", "SecretNotFound")
    cred.credentials[0].username_uri = "https://kv-elsewhere.vault.azure.net/secrets/quay-username"
    assert _health(sdk_clients, "contosocache", "quay-io") == ("Unhealthy", "VaultNotFound")


def test_demo_scenario_has_exactly_one_unhealthy_credential_set(sdk_clients: SdkClients) -> None:
    unhealthy = []
    for registry in sdk_clients.acr.registries.list():
        for cred in sdk_clients.acr.credential_sets.list(RG_CACHE, registry.name):
            if cred.auth_credentials[0].credential_health.status != "Healthy":
                unhealthy.append((registry.name, cred.name))
    assert unhealthy == [("contosocache", "quay-io")]


def test_role_assignment_filters_choose_the_scopes_listed(
    sdk_clients: SdkClients, sandbox: Sandbox
) -> None:
    principal = sandbox.principal_of("contosocache", "dockerhub")
    vault = sandbox.vault("kv-cache-rbac")
    on_secret = vault.secret_scope("dockerhub-username").lower()

    def scopes(filter_: str | None) -> set[str]:
        listed = sdk_clients.authorization.role_assignments.list_for_scope(vault.id, filter=filter_)
        return {a.scope.lower() for a in listed}

    assert on_secret in scopes(None)  # no filter: at, above and below the vault
    assert on_secret in scopes(f"principalId eq '{principal}'")
    assert on_secret not in scopes("atScope()")  # at or above only
    assert scopes("atScope()") <= scopes(None)
