"""In-memory vault permission models, role definitions and role assignments."""

from __future__ import annotations

import threading
import uuid

from shared.domain.ids import ResourceId
from shared.domain.models import (
    KEY_VAULT_SECRETS_USER,
    Permission,
    RoleAssignment,
    RoleDefinition,
    VaultAccess,
)
from shared.errors import NotFoundError

__all__ = ["MemoryAccess"]

_BUILT_IN = (
    RoleDefinition(
        KEY_VAULT_SECRETS_USER,
        "Key Vault Secrets User",
        (Permission(data_actions=(
            "Microsoft.KeyVault/vaults/secrets/getSecret/action",
            "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
        )),),
    ),
    RoleDefinition(
        "21090545-7ca7-4776-b22c-e363652d74d2",
        "Key Vault Reader",
        (Permission(
            actions=("Microsoft.KeyVault/checkNameAvailability/read", "Microsoft.KeyVault/vaults/*/read"),
            data_actions=("Microsoft.KeyVault/vaults/*/read", "Microsoft.KeyVault/vaults/secrets/readMetadata/action"),
        ),),
    ),
    RoleDefinition(
        "00482a5a-887f-4fb3-b363-3b7fe8e74483",
        "Key Vault Administrator",
        (Permission(data_actions=("Microsoft.KeyVault/vaults/*",)),),
    ),
)  # fmt: skip


class MemoryAccess:
    """Implements the Access port; role assignments "above and below" a scope as ARM returns them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.vaults: dict[ResourceId, VaultAccess] = {}
        self.roles: dict[str, RoleDefinition] = {r.id: r for r in _BUILT_IN}
        self.assignments: list[RoleAssignment] = []
        self.grants: list[RoleAssignment] = []

    def add_vault(self, vault: VaultAccess) -> None:
        self.vaults[vault.vault_id] = vault

    def add_role(self, role: RoleDefinition) -> None:
        self.roles[role.id.lower()] = role

    def assign(
        self, scope: ResourceId, principal_id: str, role_id: str, *, condition: str | None = None
    ) -> RoleAssignment:
        """Seed an existing assignment (not counted as a grant)."""
        assignment = RoleAssignment(
            str(uuid.uuid4()), scope, role_id.lower(), principal_id, "ServicePrincipal", condition
        )
        self.assignments.append(assignment)
        return assignment

    def revoke(self, assignment_id: str) -> None:
        self.assignments = [a for a in self.assignments if a.id != assignment_id]

    def vault_access(self, vault: ResourceId) -> VaultAccess:
        try:
            return self.vaults[vault]
        except KeyError:
            raise NotFoundError(f"vault {vault} does not exist") from None

    def role_assignments(self, scope: ResourceId, principal_id: str) -> list[RoleAssignment]:
        return [
            a for a in self.assignments
            if a.principal_id.lower() == principal_id.lower() and (a.scope.contains(scope) or scope.contains(a.scope))
        ]  # fmt: skip

    def all_role_assignments(self, scope: ResourceId) -> list[RoleAssignment]:
        return [
            a for a in self.assignments
            if a.scope.contains(scope) or scope.contains(a.scope)
            or a.scope.is_type("Microsoft.Management/managementGroups")
        ]  # fmt: skip

    def role_definition(self, role_id: str, *, scope: ResourceId) -> RoleDefinition:
        try:
            return self.roles[role_id.lower()]
        except KeyError:
            raise NotFoundError(f"role definition {role_id} does not exist") from None

    def grant(
        self, scope: ResourceId, *, principal_id: str, role_id: str, condition: str | None = None
    ) -> RoleAssignment:
        with self._lock:
            for existing in self.assignments:
                if (
                    existing.scope == scope
                    and existing.principal_id == principal_id
                    and existing.role_definition_id == role_id.lower()
                    and existing.condition == condition
                ):
                    return existing
            assignment = self.assign(scope, principal_id, role_id, condition=condition)
            self.grants.append(assignment)
            return assignment
