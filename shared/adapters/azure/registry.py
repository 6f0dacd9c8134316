"""Registry port over azure-mgmt-containerregistry (api-version 2025-11-01).

Bodies are sent as REST-shaped mappings so a PATCH carries only the updatable fields
(`authCredentials` for credential sets, `credentialSetResourceId` for cache rules).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from shared.adapters.azure.arm_json import (
    CREDENTIAL_NAME,
    HEALTH_STATUSES,
    cache_rule_from_json,
    credential_set_from_json,
    list_json,
)
from shared.adapters.azure.clients import AzureClients
from shared.adapters.azure.errors import translate_errors
from shared.adapters.azure.fencing import fenced
from shared.adapters.azure.registry_auth import RegistryAuthReads
from shared.domain.cache_rules import RuleSpec
from shared.domain.ids import ResourceId
from shared.domain.models import CacheRule, CredentialHealth, CredentialSet, HealthStatus
from shared.domain.repositories import TargetPath, Upstream
from shared.domain.secrets import SecretRef
from shared.errors import InvalidInputError, NotFoundError

__all__ = ["AzureRegistry"]

log = logging.getLogger(__name__)


def _parts(resource: ResourceId) -> tuple[str, str, str]:
    """(subscription, resource group, registry name) of a registry or of one of its children."""
    registry = (
        resource if resource.is_type("Microsoft.ContainerRegistry/registries") else resource.parent
    )
    if registry is None or not registry.is_type("Microsoft.ContainerRegistry/registries"):
        raise InvalidInputError(f"{resource} is not a container registry or one of its children")
    subscription, group = registry.subscription_id, registry.resource_group
    if subscription is None or group is None:
        raise InvalidInputError(f"{registry} is not inside a resource group")
    return subscription, group, registry.name


def _registry_path(resource: ResourceId, group: str, name: str) -> str:
    return (
        f"/subscriptions/{resource.subscription_id}/resourceGroups/{group}"
        f"/providers/Microsoft.ContainerRegistry/registries/{name}"
    )


def _enum_text(value: Any) -> str | None:
    """The wire value of an SDK enum (str() of a str-enum gives 'Class.MEMBER' on 3.11)."""
    if value is None:
        return None
    return str(getattr(value, "value", value))


def _health(credential: Any) -> CredentialHealth:
    health = getattr(credential, "credential_health", None)
    if health is None:
        return CredentialHealth()
    status = _enum_text(getattr(health, "status", None)) or ""
    return CredentialHealth(
        HEALTH_STATUSES.get(status.lower(), HealthStatus.UNKNOWN),
        getattr(health, "error_code", None),
        getattr(health, "error_message", None),
    )


def to_credential_set(item: Any) -> CredentialSet | None:
    """Domain credential set from an SDK one; None (logged) when ACR holds something we can't use."""
    credentials = list(item.auth_credentials or [])
    primary = next(
        (c for c in credentials if c.name == CREDENTIAL_NAME),
        credentials[0] if credentials else None,
    )
    try:
        if primary is None:
            raise InvalidInputError("it has no authCredentials")
        identity = getattr(item, "identity", None)
        return CredentialSet(
            id=ResourceId.parse(item.id),
            login_server=item.login_server,
            username=SecretRef.parse(primary.username_secret_identifier),
            password=SecretRef.parse(primary.password_secret_identifier),
            principal_id=getattr(identity, "principal_id", None),
            health=_health(primary),
            provisioning_state=_enum_text(item.provisioning_state),
        )
    except InvalidInputError as exc:
        log.warning("skipping credential set %s: %s", getattr(item, "id", "?"), exc)
        return None


def to_cache_rule(item: Any) -> CacheRule | None:
    """Domain cache rule from an SDK one; None (logged) when its fields don't parse."""
    try:
        credential = item.credential_set_resource_id
        return CacheRule(
            id=ResourceId.parse(item.id),
            source=Upstream.parse(item.source_repository, allow_wildcard=True),
            target=TargetPath.parse(item.target_repository),
            credential_set_id=ResourceId.parse(credential) if credential else None,
            provisioning_state=_enum_text(item.provisioning_state),
        )
    except InvalidInputError as exc:
        log.warning("skipping cache rule %s: %s", getattr(item, "id", "?"), exc)
        return None


def _auth_credentials(username: SecretRef, password: SecretRef) -> list[dict[str, str]]:
    return [
        {
            "name": CREDENTIAL_NAME,
            "usernameSecretIdentifier": str(username),
            "passwordSecretIdentifier": str(password),
        }
    ]


class AzureRegistry(RegistryAuthReads):
    """Implements the Registry port (its authentication reads: `registry_auth.py`)."""

    def __init__(self, clients: AzureClients) -> None:
        self._clients = clients
        self._login_servers: dict[ResourceId, str] = {}

    def _client(self, resource: ResourceId) -> tuple[Any, str, str]:
        subscription, group, registry = _parts(resource)
        return self._clients.container_registry(subscription), group, registry

    # ---- credential sets ------------------------------------------------------------------
    def list_credential_sets(self, registry: ResourceId) -> list[CredentialSet]:
        client, group, name = self._client(registry)
        with translate_errors(f"listing credential sets of {registry}"):
            items = list_json(client, _registry_path(registry, group, name) + "/credentialSets")
        return [c for c in map(credential_set_from_json, items) if c is not None]

    def get_credential_set(self, credential_set: ResourceId) -> CredentialSet:
        client, group, name = self._client(credential_set)
        with translate_errors(f"reading credential set {credential_set}"):
            item = client.credential_sets.get(group, name, credential_set.name)
        converted = to_credential_set(item)
        if converted is None:
            raise InvalidInputError(
                f"credential set {credential_set} has secret references we cannot read"
            )
        return converted

    def create_credential_set(
        self,
        credential_set: ResourceId,
        *,
        login_server: str,
        username: SecretRef,
        password: SecretRef,
    ) -> CredentialSet:
        client, group, name = self._client(credential_set)
        body = {
            "identity": {"type": "SystemAssigned"},
            "properties": {
                "loginServer": login_server,
                "authCredentials": _auth_credentials(username, password),
            },
        }
        with translate_errors(f"creating credential set {credential_set}"):
            client.credential_sets.begin_create(group, name, credential_set.name, body).result()
        return self.get_credential_set(credential_set)

    def update_credential_set(
        self,
        credential_set: ResourceId,
        *,
        username: SecretRef,
        password: SecretRef,
        fence: Callable[[], None] | None = None,
    ) -> CredentialSet:
        client, group, name = self._client(credential_set)
        body = {"properties": {"authCredentials": _auth_credentials(username, password)}}
        with translate_errors(f"updating credential set {credential_set}"):
            with fenced(fence):  # the PATCH (and each retry of it) checks the fence first
                poller = client.credential_sets.begin_update(group, name, credential_set.name, body)
            item = poller.result()
        converted = to_credential_set(item)
        return converted if converted is not None else self.get_credential_set(credential_set)

    def delete_credential_set(self, credential_set: ResourceId) -> None:
        client, group, name = self._client(credential_set)
        with translate_errors(f"deleting credential set {credential_set}"):
            client.credential_sets.begin_delete(group, name, credential_set.name).result()

    # ---- cache rules ----------------------------------------------------------------------
    def list_cache_rules(self, registry: ResourceId) -> list[CacheRule]:
        client, group, name = self._client(registry)
        with translate_errors(f"listing cache rules of {registry}"):
            items = list_json(client, _registry_path(registry, group, name) + "/cacheRules")
        return [r for r in map(cache_rule_from_json, items) if r is not None]

    def get_cache_rule(self, rule: ResourceId) -> CacheRule:
        client, group, name = self._client(rule)
        with translate_errors(f"reading cache rule {rule}"):
            item = client.cache_rules.get(group, name, rule.name)
        converted = to_cache_rule(item)
        if converted is None:
            raise InvalidInputError(f"cache rule {rule} has fields we cannot read")
        return converted

    def create_cache_rule(self, registry: ResourceId, spec: RuleSpec) -> CacheRule:
        client, group, name = self._client(registry)
        properties: dict[str, str] = {
            "sourceRepository": str(spec.source),
            "targetRepository": str(spec.target),
        }
        if spec.credential_set:
            properties["credentialSetResourceId"] = str(
                registry.child("credentialSets", spec.credential_set)
            )
        with translate_errors(f"creating cache rule {spec.name} in {registry}"):
            item = client.cache_rules.begin_create(
                group, name, spec.name, {"properties": properties}
            ).result()
        converted = to_cache_rule(item)
        return (
            converted
            if converted is not None
            else self.get_cache_rule(registry.child("cacheRules", spec.name))
        )

    def update_cache_rule(
        self, rule: ResourceId, *, credential_set: ResourceId | None
    ) -> CacheRule:
        client, group, name = self._client(rule)
        # JSON null removes the credential set, as the Azure CLI does
        body = {
            "properties": {
                "credentialSetResourceId": str(credential_set) if credential_set else None
            }
        }
        with translate_errors(f"updating cache rule {rule}"):
            item = client.cache_rules.begin_update(group, name, rule.name, body).result()
        converted = to_cache_rule(item)
        return converted if converted is not None else self.get_cache_rule(rule)

    def delete_cache_rule(self, rule: ResourceId) -> None:
        client, group, name = self._client(rule)
        with translate_errors(f"deleting cache rule {rule}"):
            client.cache_rules.begin_delete(group, name, rule.name).result()

    # ---- repositories (data plane) ----------------------------------------------------------
    def _login_server(self, registry: ResourceId) -> str:
        # The login server is not always <name>.azurecr.io (sovereign clouds, DNL hashes): ask ARM.
        login_server = self._login_servers.get(registry)
        if login_server is None:
            client, group, name = self._client(registry)
            with translate_errors(f"reading registry {registry}"):
                login_server = client.registries.get(group, name).login_server
            if not isinstance(login_server, str) or not login_server:
                raise InvalidInputError(f"registry {registry} has no login server")
            self._login_servers[registry] = login_server
        return login_server

    def list_repositories(self, registry: ResourceId) -> list[TargetPath]:
        data = self._clients.registry_data(self._login_server(registry))
        found: list[TargetPath] = []
        with translate_errors(f"listing repositories of {registry.name}"):
            for name in data.list_repository_names():
                try:
                    found.append(TargetPath.parse(str(name), allow_wildcard=False))
                except InvalidInputError:
                    log.warning(
                        "skipping repository %r of %s: not a valid name", name, registry.name
                    )
        return sorted(found, key=str)

    def repository_exists(self, registry: ResourceId, repository: TargetPath) -> bool:
        data = self._clients.registry_data(self._login_server(registry))
        try:
            with translate_errors(f"reading repository {repository} in {registry.name}"):
                data.get_repository_properties(str(repository))
        except NotFoundError:
            return False
        return True
