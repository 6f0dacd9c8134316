"""Access port over azure-mgmt-keyvault and azure-mgmt-authorization (api-version 2022-04-01).

Role definitions rarely change and are read for every access check, so they are cached per worker
for a few minutes. Role ids are compared on their trailing GUID: ARM returns them as
`/subscriptions/{s}/providers/Microsoft.Authorization/roleDefinitions/{guid}` in some places and
`/providers/...` in others.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from typing import Any

from shared.adapters.azure.clients import AzureClients
from shared.adapters.azure.errors import translate_errors
from shared.domain.ids import ResourceId
from shared.domain.models import (
    AccessPolicy,
    Permission,
    RoleAssignment,
    RoleDefinition,
    VaultAccess,
)
from shared.errors import ConflictError, InvalidInputError

__all__ = ["AzureAccess", "role_guid"]

_GUID = re.compile(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}", re.ASCII)
_ROLE_CACHE_SECONDS = 300.0


def role_guid(role_definition_id: str) -> str:
    """The GUID at the end of a role definition id, lower-case."""
    return role_definition_id.rstrip("/").rsplit("/", 1)[-1].lower()


def _guid(value: str, what: str) -> str:
    if not _GUID.fullmatch(value):
        raise InvalidInputError(f"{what} {value!r} is not a GUID")
    return value.lower()


def _subscription_of(scope: ResourceId, fallback: str | None = None) -> str:
    subscription = scope.subscription_id or fallback
    if subscription is None:
        raise InvalidInputError(f"{scope} is not inside a subscription")
    return subscription


def _as_tuple(values: Any) -> tuple[str, ...]:
    # SDK enums are str-enums whose str() is 'Class.MEMBER' on 3.11: use the wire value
    return tuple(str(getattr(v, "value", v)) for v in (values or ()))


def _assignment(item: Any) -> RoleAssignment:
    """A role assignment from the SDK's model (api-version 2022-04-01)."""
    return RoleAssignment(
        id=str(item.name),
        scope=ResourceId.parse(item.scope),
        role_definition_id=role_guid(item.role_definition_id),
        principal_id=str(item.principal_id).lower(),
        principal_type=str(getattr(item.principal_type, "value", item.principal_type) or "")
        or None,
        condition=item.condition or None,
    )


class AzureAccess:
    """Implements the Access port."""

    def __init__(self, clients: AzureClients) -> None:
        self._clients = clients
        self._lock = threading.Lock()
        self._roles: dict[str, tuple[float, RoleDefinition]] = {}
        self._fetching: dict[str, threading.Lock] = {}  # one read per role, however many ask

    def vault_access(self, vault: ResourceId) -> VaultAccess:
        if not vault.is_type("Microsoft.KeyVault/vaults") or vault.resource_group is None:
            raise InvalidInputError(f"{vault} is not a Key Vault")
        client = self._clients.key_vault_management(_subscription_of(vault))
        with translate_errors(f"reading vault {vault}"):
            item = client.vaults.get(vault.resource_group, vault.name)
        properties = item.properties
        policies = tuple(
            AccessPolicy(
                tenant_id=str(p.tenant_id),
                object_id=str(p.object_id),
                secret_permissions=_as_tuple(getattr(p.permissions, "secrets", None)),
                application_id=str(p.application_id) if p.application_id else None,
            )
            for p in (properties.access_policies or [])
        )
        return VaultAccess(vault, bool(properties.enable_rbac_authorization), policies)

    def role_assignments(self, scope: ResourceId, principal_id: str) -> list[RoleAssignment]:
        principal = _guid(principal_id, "principal id")  # it goes into an OData filter
        return self._list_assignments(
            scope, f"principalId eq '{principal}'", f"role assignments of {principal} at {scope}"
        )

    def all_role_assignments(self, scope: ResourceId) -> list[RoleAssignment]:
        return self._list_assignments(scope, None, f"role assignments at, above and below {scope}")

    def _list_assignments(
        self, scope: ResourceId, odata: str | None, what: str
    ) -> list[RoleAssignment]:
        client = self._clients.authorization(_subscription_of(scope))
        with translate_errors(f"listing {what}"):
            items = list(client.role_assignments.list_for_scope(str(scope), filter=odata))
        assignments: list[RoleAssignment] = []
        for item in items:
            try:
                assignments.append(_assignment(item))
            except (InvalidInputError, TypeError, AttributeError):
                continue  # a scope we can't parse can't cover a secret either
        return assignments

    def role_definition(self, role_id: str, *, scope: ResourceId) -> RoleDefinition:
        guid = _guid(role_guid(role_id), "role definition id")
        cached = self._cached_role(guid)
        if cached is not None:
            return cached
        with self._lock:
            fetching = self._fetching.setdefault(guid, threading.Lock())
        with fetching:  # concurrent checks of the same role wait for one read instead of racing
            return self._cached_role(guid) or self._read_role_definition(guid, scope)

    def _cached_role(self, guid: str) -> RoleDefinition | None:
        with self._lock:
            cached = self._roles.get(guid)
        return cached[1] if cached is not None and cached[0] > time.monotonic() else None

    def _read_role_definition(self, guid: str, scope: ResourceId) -> RoleDefinition:
        now = time.monotonic()
        client = self._clients.authorization(_subscription_of(scope))
        with translate_errors(f"reading role definition {guid}"):
            item = client.role_definitions.get(str(scope), guid)
        role = RoleDefinition(
            id=guid,
            role_name=str(item.role_name),
            permissions=tuple(
                Permission(
                    actions=_as_tuple(p.actions),
                    not_actions=_as_tuple(p.not_actions),
                    data_actions=_as_tuple(p.data_actions),
                    not_data_actions=_as_tuple(p.not_data_actions),
                )
                for p in (item.permissions or [])
            ),
            is_custom=str(item.role_type or "").lower() == "customrole",
        )
        with self._lock:
            self._roles[guid] = (now + _ROLE_CACHE_SECONDS, role)
        return role

    def grant(
        self, scope: ResourceId, *, principal_id: str, role_id: str, condition: str | None = None
    ) -> RoleAssignment:
        from azure.mgmt.authorization.v2022_04_01.models import RoleAssignmentCreateParameters

        principal = _guid(principal_id, "principal id")
        role = _guid(role_guid(role_id), "role definition id")
        subscription = _subscription_of(scope)
        # A name derived from (scope, principal, role[, condition]) makes a retry the same PUT.
        key = f"{str(scope).lower()}|{principal}|{role}" + (f"|{condition}" if condition else "")
        name = str(uuid.uuid5(uuid.NAMESPACE_URL, key))
        parameters = RoleAssignmentCreateParameters(
            role_definition_id=f"/subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions/{role}",
            principal_id=principal,
            principal_type="ServicePrincipal",
            condition=condition,
            condition_version="2.0" if condition else None,
        )
        client = self._clients.authorization(subscription)
        try:
            with translate_errors(f"granting role {role} to {principal} at {scope}"):
                client.role_assignments.create(str(scope), name, parameters)
        except ConflictError:
            pass  # RoleAssignmentExists: the same grant under another name is just as good
        for assignment in self.role_assignments(scope, principal):
            if (
                assignment.scope == scope
                and assignment.role_definition_id == role
                and (assignment.condition or None) == (condition or None)
            ):
                return assignment
        raise ConflictError(f"granted role {role} at {scope} but cannot read the assignment back")
