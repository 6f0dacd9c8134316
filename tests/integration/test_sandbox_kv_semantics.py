"""Key Vault as the sandbox emulates it, through the real SDK clients (docs/fidelity.md, Key Vault):
versionless reads return the latest version, `created` is whole seconds, list order is an option,
and an access policy with an `applicationId` is a compound identity."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sandbox import Sandbox
from tests.integration.conftest import RG_CACHE, SdkClients

A_LATER = "0000000000000000000000000000000b"  # created second, but sorts first by id
AN_EARLIER = "ffffffffffffffffffffffffffffffaa"


def _two_in_one_second(sandbox: Sandbox) -> tuple[dict[str, object], dict[str, object]]:
    sandbox.clock.set(datetime(2026, 12, 1, 9, 0, 0, 100_000, tzinfo=UTC))
    first = sandbox.add_secret_version("kv-cache-rbac", "dockerhub-password", version_id=AN_EARLIER)
    sandbox.clock.advance(0.4)
    second = sandbox.add_secret_version("kv-cache-rbac", "dockerhub-password", version_id=A_LATER)
    return first, second


def test_two_versions_created_in_one_second_share_a_whole_second_timestamp(
    sandbox: Sandbox, sdk_clients: SdkClients
) -> None:
    first, second = _two_in_one_second(sandbox)
    listed = {
        p.version: p.created_on
        for p in sdk_clients.secrets.list_properties_of_secret_versions("dockerhub-password")
    }
    assert listed[AN_EARLIER] == listed[A_LATER]  # Key Vault's created is in whole seconds
    assert listed[A_LATER] is not None and listed[A_LATER].microsecond == 0
    # the events keep the order: their times are finer than a second
    first_time = first["eventGrid"]["eventTime"]  # type: ignore[index]
    second_time = second["eventGrid"]["eventTime"]  # type: ignore[index]
    assert first_time < second_time
    # and Key Vault knows which is the latest: a versionless read returns it
    assert sdk_clients.secrets.get_secret("dockerhub-password").properties.version == A_LATER


@pytest.mark.parametrize("order", ["created", "newest-first", "version-id"])
def test_list_versions_order_is_an_option(
    sandbox: Sandbox, sdk_clients: SdkClients, order: str
) -> None:
    sandbox.options.kv_versions_order = order
    _two_in_one_second(sandbox)
    listed = [
        p.version
        for p in sdk_clients.secrets.list_properties_of_secret_versions("dockerhub-password")
    ]
    created = [
        v.version for v in sandbox.vault("kv-cache-rbac").secrets["dockerhub-password"].versions
    ]
    expected = {
        "created": created,
        "newest-first": list(reversed(created)),
        "version-id": sorted(created),
    }[order]
    assert listed == expected


@pytest.mark.instant_azure  # a rule of access evaluation, read back at once (no health lag)
def test_a_compound_identity_policy_does_not_let_the_identity_read_as_itself(
    sandbox: Sandbox, sdk_clients: SdkClients
) -> None:
    principal = sandbox.principal_of("contosocache", "ghcr-acme")
    assert sandbox.health("contosocache", "ghcr-acme").status == "Healthy"
    application = "11111111-2222-3333-4444-555555555555"
    sandbox.set_access_policy(
        "kv-cache-policies", principal, ["get", "list"], application_id=application
    )
    health = sandbox.health("contosocache", "ghcr-acme")
    assert (health.status, health.error_code) == ("Unhealthy", "AccessDenied")
    assert "compound identity" in (health.error_message or "")
    vault = sdk_clients.keyvault.vaults.get("rg-secrets", "kv-cache-policies")
    (policy,) = vault.properties.access_policies
    assert (policy.object_id, policy.application_id) == (principal, application)
    # the same grant without applicationId is the identity's own
    sandbox.set_access_policy("kv-cache-policies", principal, ["get"])
    assert sandbox.health("contosocache", "ghcr-acme").status == "Healthy"
    acr = sdk_clients.acr.credential_sets.get(RG_CACHE, "contosocache", "ghcr-acme")
    assert acr.auth_credentials[0].credential_health.status == "Healthy"
