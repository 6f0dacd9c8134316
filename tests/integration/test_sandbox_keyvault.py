"""Key Vault data plane through the real SecretClient: metadata without values, and counting values."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from azure.core.exceptions import ResourceNotFoundError, ServiceRequestError
from azure.core.rest import HttpRequest
from azure.keyvault.secrets import SecretClient

from sandbox import Sandbox
from shared.domain.secrets import SecretRef
from shared.errors import NotFoundError
from tests.integration.app_context import sandbox_context
from tests.integration.conftest import SdkClients


def test_versions_are_listed_without_values(sdk_clients: SdkClients, sandbox: Sandbox) -> None:
    sandbox.add_secret_version("kv-cache-rbac", "dockerhub-password")
    versions = list(sdk_clients.secrets.list_properties_of_secret_versions("dockerhub-password"))

    assert len(versions) == 3
    assert all(re.fullmatch(r"[0-9a-f]{32}", v.version or "") for v in versions)
    assert all(v.created_on is not None and v.enabled for v in versions)
    assert sandbox.secret_values_served == 0
    listed = sandbox.requests_matching("/secrets/dockerhub-password/versions$")
    # azure-keyvault caches the challenge per vault for the process, so the 401 may be absent.
    assert listed[-1].status == 200
    assert all(r.challenge == (r.status == 401) for r in listed)


def test_unauthenticated_request_gets_the_bearer_challenge(sandbox: Sandbox) -> None:
    request = HttpRequest("GET", "https://kv-cache-rbac.vault.azure.net/secrets?api-version=7.6")
    with sandbox.transport() as transport:
        response = transport.send(request)
        response.read()
    assert response.status_code == 401
    challenge = response.headers["WWW-Authenticate"]
    tenant = sandbox.vault("kv-cache-rbac").tenant_id
    assert challenge == (
        f'Bearer authorization="https://login.microsoftonline.com/{tenant}", resource="https://vault.azure.net"'
    )
    assert sandbox.requests[-1].challenge


def test_versions_page_with_next_link(sdk_clients: SdkClients, sandbox: Sandbox) -> None:
    sandbox.options.kv_page_size = 1
    for _ in range(3):
        sandbox.add_secret_version("kv-cache-rbac", "quay-username")
    versions = list(sdk_clients.secrets.list_properties_of_secret_versions("quay-username"))
    assert len(versions) == 4
    pages = sandbox.requests_matching("/secrets/quay-username/versions$", include_challenges=False)
    assert len(pages) == 4


def test_list_secrets_shows_current_attributes(sdk_clients: SdkClients, sandbox: Sandbox) -> None:
    names = {p.name: p for p in sdk_clients.secrets.list_properties_of_secrets()}
    assert set(names) == {
        "dockerhub-username",
        "dockerhub-password",
        "quay-username",
        "quay-password",
    }
    assert names["dockerhub-username"].content_type == "text/plain"
    assert sandbox.secret_values_served == 0


def test_get_secret_is_counted(sdk_clients: SdkClients, sandbox: Sandbox) -> None:
    secret = sdk_clients.secrets.get_secret("dockerhub-username")

    assert secret.value == sandbox.secret_version("kv-cache-rbac", "dockerhub-username").value
    assert sandbox.secret_values_served == 1
    served = [r for r in sandbox.requests if r.secret_value_served]
    assert [r.path for r in served] == ["/secrets/dockerhub-username"]


def test_get_missing_secret_is_not_found(sdk_clients: SdkClients, sandbox: Sandbox) -> None:
    with pytest.raises(ResourceNotFoundError):
        sdk_clients.secrets.get_secret("no-such-secret")
    assert sandbox.secret_values_served == 0


def test_set_and_update_secret(sdk_clients: SdkClients, sandbox: Sandbox) -> None:
    sandbox.clock.set("2026-03-01T12:00:00Z")
    expires = datetime(2027, 1, 1, tzinfo=UTC)
    created = sdk_clients.secrets.set_secret(
        "new-token", "s3cr3t", expires_on=expires, content_type="text/plain"
    )
    assert created.properties.expires_on == expires
    assert created.properties.created_on == datetime(2026, 3, 1, 12, tzinfo=UTC)

    updated = sdk_clients.secrets.update_secret_properties(
        "new-token", created.properties.version, enabled=False
    )
    assert updated.enabled is False
    assert sandbox.secret_version("kv-cache-rbac", "new-token").enabled is False
    assert sandbox.secret_values_served == 0  # echoing the caller's own value is not a read
    put = sandbox.requests_matching("/secrets/new-token$", method="PUT")[-1]
    assert put.write and "s3cr3t" not in (put.body or "")


def test_unknown_vault_host_fails_like_dns(sandbox: Sandbox) -> None:
    client = SecretClient(
        "https://kv-nowhere.vault.azure.net",
        sandbox.credential(),
        transport=sandbox.transport(),
        retry_total=0,
    )
    with pytest.raises(ServiceRequestError):
        list(client.list_properties_of_secret_versions("x"))
    client.close()


def test_access_policy_vault_client(sdk_clients: SdkClients, sandbox: Sandbox) -> None:
    client = sdk_clients.secret_client("kv-cache-policies")
    versions = [v.version for v in client.list_properties_of_secret_versions("ghcr-password")]
    assert versions == ["1a2b3c4d5e6f40718293a4b5c6d7e8f9", "9c8b7a6f5e4d4c3b2a1f0e9d8c7b6a5f"]


def test_the_adapter_lists_what_the_sdk_lists_from_the_versions_endpoint_only(
    sdk_clients: SdkClients, sandbox: Sandbox
) -> None:
    """KeyVaultSecrets lists the versions through the SecretClient: the same versions and
    attributes as the SDK's own listing, from /versions requests only."""

    sandbox.options.kv_page_size = 2
    sandbox.add_secret_version("kv-cache-rbac", "quay-password", enabled=False)
    sandbox.add_secret_version("kv-cache-rbac", "quay-password", expires="2030-01-02T03:04:05Z")
    sandbox.add_secret_version("kv-cache-rbac", "quay-password", not_before="2020-01-01T00:00:00Z")
    expected = {
        v.version: (v.enabled, v.created_on, v.updated_on, v.not_before, v.expires_on)
        for v in sdk_clients.secrets.list_properties_of_secret_versions("quay-password")
    }
    first = len(sandbox.requests)
    adapter = sandbox_context(sandbox).secrets  # the product's KeyVaultSecrets
    secret = SecretRef.parse("https://kv-cache-rbac.vault.azure.net/secrets/quay-password")
    listed = adapter.list_versions(secret)

    assert {
        v.version: (v.enabled, v.created, v.updated, v.not_before, v.expires) for v in listed
    } == (expected)
    assert len(expected) == 4 and any(not enabled for enabled, *_ in expected.values())
    assert all(v.ref.versionless() == secret for v in listed)
    assert all(t is None or t.tzinfo is not None for v in listed for t in (v.created, v.expires))
    sent = [r for r in sandbox.requests[first:] if not r.challenge]
    assert [r.path for r in sent] == ["/secrets/quay-password/versions"] * 2  # 4 versions, 2 a page
    assert sandbox.secret_values_served == 0


def test_the_adapter_says_a_missing_secret_is_not_found(sandbox: Sandbox) -> None:

    adapter = sandbox_context(sandbox).secrets  # the product's KeyVaultSecrets
    with pytest.raises(NotFoundError):
        adapter.list_versions(
            SecretRef.parse("https://kv-cache-rbac.vault.azure.net/secrets/no-such-secret")
        )
