"""How a registry authenticates pullers, over azure-mgmt-containerregistry's public operations:
`registries.get` (adminUserEnabled, roleAssignmentMode), `tokens.list`, `scope_maps.get`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.adapters.azure.errors import translate_errors
from shared.domain.ids import ResourceId
from shared.domain.pullers import RegistryAuth, RegistryToken, ScopeMap
from shared.errors import InvalidInputError

__all__ = ["RegistryAuthReads", "to_registry_auth", "to_registry_token", "to_scope_map"]


def _wire(value: Any) -> str:
    return str(getattr(value, "value", value) or "")


def to_registry_auth(registry: ResourceId, item: Any) -> RegistryAuth:
    mode = _wire(getattr(item, "role_assignment_mode", None))
    return RegistryAuth(
        registry,
        admin_user_enabled=bool(getattr(item, "admin_user_enabled", False)),
        abac_repository_permissions=mode.lower() == "abacrepositorypermissions",
    )


def _optional_id(value: Any) -> ResourceId | None:
    try:
        return ResourceId.parse(value) if isinstance(value, str) and value else None
    except InvalidInputError:
        return None


def to_registry_token(item: Any) -> RegistryToken | None:
    token_id = _optional_id(getattr(item, "id", None))
    if token_id is None:
        return None
    credentials = getattr(item, "credentials", None)
    passwords = list(getattr(credentials, "passwords", None) or [])
    expiries = tuple(
        e if isinstance(e := getattr(p, "expiry", None), datetime) else None for p in passwords
    )
    return RegistryToken(
        id=token_id,
        name=str(getattr(item, "name", None) or token_id.name),
        enabled=_wire(getattr(item, "status", "enabled")).lower() != "disabled",
        scope_map_id=_optional_id(getattr(item, "scope_map_id", None)),
        password_expiries=expiries,
    )


def to_scope_map(scope_map: ResourceId, item: Any) -> ScopeMap:
    return ScopeMap(scope_map, tuple(str(a) for a in (getattr(item, "actions", None) or [])))


class RegistryAuthReads:
    """The Registry port's reads of registry authentication (mixed into AzureRegistry)."""

    _login_servers: dict[ResourceId, str]

    def _client(self, resource: ResourceId) -> tuple[Any, str, str]:
        raise NotImplementedError

    def registry_auth(self, registry: ResourceId) -> RegistryAuth:
        client, group, name = self._client(registry)
        with translate_errors(f"reading registry {registry}"):
            item = client.registries.get(group, name)
        login_server = getattr(item, "login_server", None)
        if isinstance(login_server, str) and login_server:
            self._login_servers[registry] = login_server  # the same read answers it
        return to_registry_auth(registry, item)

    def list_tokens(self, registry: ResourceId) -> list[RegistryToken]:
        client, group, name = self._client(registry)
        with translate_errors(f"listing tokens of {registry}"):
            items = list(client.tokens.list(group, name))
        return [t for t in map(to_registry_token, items) if t is not None]

    def get_scope_map(self, scope_map: ResourceId) -> ScopeMap:
        client, group, name = self._client(scope_map)
        with translate_errors(f"reading scope map {scope_map}"):
            item = client.scope_maps.get(group, name, scope_map.name)
        return to_scope_map(scope_map, item)
