"""Can an identity read a Key Vault secret? Evaluated the way Key Vault would, independently.

RBAC vaults: a role assignment for the principal at the secret, vault, resource group,
subscription, management group or root scope whose role's effective data actions
(`dataActions` minus `notDataActions`, per permission block) match
`Microsoft.KeyVault/vaults/secrets/getSecret/action`. ABAC `condition`s are treated as
satisfied (Azure evaluates them at request time; the sandbox does not).
Access-policy vaults: a policy for the principal's objectId whose secret permissions include
`get` or `all` and that names no `applicationId`: an entry with one is a compound identity
(that application acting on behalf of the object), which the identity calling as itself does not
match. The other model's grants are ignored, as Key Vault ignores them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sandbox.state import Permission, RoleAssignment, RoleDefinition, Vault

GET_SECRET = "Microsoft.KeyVault/vaults/secrets/getSecret/action"
_MG_PREFIX = "/providers/microsoft.management/managementgroups/"


@dataclass(frozen=True)
class AccessDecision:
    """Outcome of an access check: allowed or not, and why."""

    allowed: bool
    reason: str


@lru_cache(maxsize=512)
def _pattern(action: str) -> re.Pattern[str]:
    # Azure action strings use `*` as "any characters", including `/`.
    return re.compile(".*".join(re.escape(p) for p in action.split("*")), re.IGNORECASE)


def action_matches(pattern: str, action: str) -> bool:
    """Whether an action pattern (with `*` wildcards) matches a concrete action."""
    return _pattern(pattern).fullmatch(action) is not None


def permission_grants_data_action(permission: Permission, action: str) -> bool:
    """One permission block grants `action` if a dataAction matches and no notDataAction does."""
    granted = any(action_matches(p, action) for p in permission.data_actions)
    return granted and not any(action_matches(p, action) for p in permission.not_data_actions)


def role_grants_data_action(role: RoleDefinition, action: str) -> bool:
    """A role grants an action if any of its permission blocks does."""
    return any(permission_grants_data_action(p, action) for p in role.permissions)


@lru_cache(maxsize=65536)
def _normalized(scope: str) -> str:
    """A scope without its trailing slash, lower case (a list of role assignments compares the
    same few thousand scopes on every page)."""
    return scope.rstrip("/").lower()


def scope_covers(
    assignment_scope: str,
    target_scope: str,
    management_groups: Mapping[str, Iterable[str]] | None = None,
) -> bool:
    """Whether an assignment at `assignment_scope` applies to `target_scope` (inheritance)."""
    scope = _normalized(assignment_scope)
    target = _normalized(target_scope)
    if scope == "":
        return True  # the root scope "/"
    if scope.startswith(_MG_PREFIX):
        group = scope[len(_MG_PREFIX) :]
        members = {s.lower() for s in _group_members(management_groups or {}, group)}
        parts = target.split("/")
        return len(parts) > 2 and parts[1] == "subscriptions" and parts[2] in members
    return target == scope or target.startswith(scope + "/")


def _group_members(groups: Mapping[str, Iterable[str]], group: str) -> list[str]:
    for name, members in groups.items():
        if name.lower() == group:
            return list(members)
    return []


def rbac_allows(
    principal_id: str,
    target_scope: str,
    assignments: Iterable[RoleAssignment],
    roles: Mapping[str, RoleDefinition],
    *,
    action: str = GET_SECRET,
    management_groups: Mapping[str, Iterable[str]] | None = None,
) -> AccessDecision:
    """Evaluate RBAC for one principal, scope and data action."""
    principal = principal_id.lower()
    for assignment in assignments:
        if assignment.principal_id.lower() != principal:
            continue
        if not scope_covers(assignment.scope, target_scope, management_groups):
            continue
        role = roles.get(assignment.role_definition_guid.lower())
        if role is not None and role_grants_data_action(role, action):
            return AccessDecision(True, f"role '{role.role_name}' at scope {assignment.scope}")
    return AccessDecision(False, f"no role assignment grants {action} at {target_scope}")


def access_policy_allows(
    principal_id: str, policies: Iterable[Mapping[str, Any]]
) -> AccessDecision:
    """Evaluate a vault's access policies for secret `get`."""
    principal = principal_id.lower()
    compound = False
    for policy in policies:
        if str(policy.get("objectId", "")).lower() != principal:
            continue
        permissions = policy.get("permissions") or {}
        granted = {str(p).lower() for p in (permissions.get("secrets") or [])}
        if not granted & {"get", "all"}:
            continue
        if policy.get("applicationId"):
            compound = True  # grants that application acting for the object, not the object
            continue
        return AccessDecision(True, "access policy grants secrets/get")
    if compound:
        return AccessDecision(
            False,
            "the only access policy granting secrets 'get' is a compound identity "
            "(applicationId set), which the identity calling as itself does not match",
        )
    return AccessDecision(False, "no access policy grants secrets 'get'")


def can_get_secret(
    principal_id: str,
    vault: Vault,
    secret_name: str,
    *,
    assignments: Iterable[RoleAssignment],
    roles: Mapping[str, RoleDefinition],
    management_groups: Mapping[str, Iterable[str]] | None = None,
) -> AccessDecision:
    """Whether `principal_id` may getSecret `secret_name` under the vault's permission model."""
    if vault.rbac:
        return rbac_allows(
            principal_id,
            vault.secret_scope(secret_name),
            assignments,
            roles,
            management_groups=management_groups,
        )
    return access_policy_allows(principal_id, vault.access_policies)
