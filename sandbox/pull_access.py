"""May this caller pull this repository? Evaluated the way ACR would, independently of `shared/`.

Entra identities, by the registry's `roleAssignmentMode`:
- `LegacyRegistryPermissions`: a role assignment at the registry or above whose role's effective
  `actions` (minus `notActions`, per block) match `Microsoft.ContainerRegistry/registries/pull/read`
  (AcrPull, AcrPush, Reader's `*/read`, Contributor/Owner's `*`, custom roles). Data-action-only
  roles (the Repository-* roles) are not honoured.
- `AbacRepositoryPermissions`: only the data action
  `Microsoft.ContainerRegistry/registries/repositories/content/read` counts (Repository Reader /
  Writer / Contributor, Data Importer and Data Reader); AcrPull and the `*` roles grant nothing.
  An assignment's condition on `@Request[...repositories:name]` (`StringEqualsIgnoreCase`,
  `StringStartsWithIgnoreCase`, OR-ed) limits it to the repositories it names; a condition the
  sandbox cannot read grants nothing.
Tokens: enabled, the password one of its unexpired ones, a scope-map action
`repositories/<repo>/content/read` (a trailing `/*` or a root `*` matches more). The admin user:
enabled, one of the two passwords.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime

from sandbox.access import AccessDecision, action_matches, scope_covers
from sandbox.state import Permission, RoleAssignment, RoleDefinition
from sandbox.state_auth import ABAC_MODE, RegistryAuth, ScopeMap, Token

PULL_ACTION = "Microsoft.ContainerRegistry/registries/pull/read"
CONTENT_READ = "Microsoft.ContainerRegistry/registries/repositories/content/read"
_REPO_ATTRIBUTE = "@Request[Microsoft.ContainerRegistry/registries/repositories:name]"
_CLAUSE = re.compile(
    re.escape(_REPO_ATTRIBUTE)
    + r"\s+(?P<op>StringEqualsIgnoreCase|StringStartsWithIgnoreCase)\s+'(?P<value>[^']*)'",
    re.IGNORECASE,
)


def _block_grants_action(block: Permission, action: str) -> bool:
    granted = any(action_matches(p, action) for p in block.actions)
    return granted and not any(action_matches(p, action) for p in block.not_actions)


def _block_grants_data_action(block: Permission, action: str) -> bool:
    granted = any(action_matches(p, action) for p in block.data_actions)
    return granted and not any(action_matches(p, action) for p in block.not_data_actions)


def condition_allows(condition: str | None, repository: str) -> bool:
    """Whether an ABAC condition lets `repository` through (no condition: every repository)."""
    if not condition or not condition.strip():
        return True
    clauses = list(_CLAUSE.finditer(condition))
    for clause in clauses:
        value, name = clause["value"].lower(), repository.lower()
        if clause["op"].lower() == "stringequalsignorecase" and name == value:
            return True
        if clause["op"].lower() == "stringstartswithignorecase" and name.startswith(value):
            return True
    return False  # no clause matched, or none the sandbox can read


def entra_can_pull(
    principal_id: str,
    registry_id: str,
    repository: str,
    auth: RegistryAuth,
    *,
    assignments: Iterable[RoleAssignment],
    roles: Mapping[str, RoleDefinition],
    management_groups: Mapping[str, Iterable[str]] | None = None,
) -> AccessDecision:
    """Evaluate the role assignments in effect for one principal, registry and repository."""
    abac = auth.role_assignment_mode == ABAC_MODE
    principal = principal_id.lower()
    for assignment in assignments:
        if assignment.principal_id.lower() != principal:
            continue
        if not scope_covers(assignment.scope, registry_id, management_groups):
            continue
        role = roles.get(assignment.role_definition_guid.lower())
        if role is None:
            continue
        if abac:
            if any(_block_grants_data_action(b, CONTENT_READ) for b in role.permissions) and (
                condition_allows(assignment.condition, repository)
            ):
                return AccessDecision(True, f"role '{role.role_name}' at {assignment.scope}")
        elif any(_block_grants_action(b, PULL_ACTION) for b in role.permissions):
            return AccessDecision(True, f"role '{role.role_name}' at {assignment.scope}")
    wanted = f"{CONTENT_READ} on {repository}" if abac else PULL_ACTION
    return AccessDecision(False, f"no role assignment grants {wanted} at {registry_id}")


def admin_can_login(auth: RegistryAuth, password: str) -> AccessDecision:
    """The admin user: enabled, and one of its two passwords."""
    if not auth.admin_user_enabled:
        return AccessDecision(False, "the admin user is disabled")
    if password not in auth.admin_passwords:
        return AccessDecision(False, "the admin password is not valid")
    return AccessDecision(True, "admin user")


def token_can_login(token: Token | None, password: str, now: datetime) -> AccessDecision:
    """A token: it exists, is enabled, and `password` is one of its unexpired passwords."""
    if token is None:
        return AccessDecision(False, "no such token")
    if token.status.lower() != "enabled":
        return AccessDecision(False, f"token '{token.name}' is disabled")
    for entry in token.passwords:
        if entry.value == password:
            if entry.expiry is not None and entry.expiry <= now:
                return AccessDecision(False, f"{entry.name} of token '{token.name}' has expired")
            return AccessDecision(True, f"token '{token.name}'")
    return AccessDecision(False, f"the password is not one of token '{token.name}''s")


def scope_map_allows(scope_map: ScopeMap | None, repository: str) -> AccessDecision:
    """Whether a scope map grants `content/read` on `repository` (rules are additive)."""
    if scope_map is None:
        return AccessDecision(False, "the token has no scope map")
    name = repository.lower()
    for action in scope_map.actions:
        text = action.lower()
        if not text.startswith("repositories/") or not text.endswith("/content/read"):
            continue
        pattern = text[len("repositories/") : -len("/content/read")]
        if pattern in (name, "*"):
            return AccessDecision(True, f"scope map '{scope_map.name}': {action}")
        if pattern.endswith("/*") and name.startswith(pattern[:-1]):
            return AccessDecision(True, f"scope map '{scope_map.name}': {action}")
    return AccessDecision(
        False, f"scope map '{scope_map.name}' has no repositories/{repository}/content/read"
    )
