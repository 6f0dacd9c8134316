"""Can an identity read a secret? Pure evaluation over role assignments or access policies.

RBAC vaults: an assignment applies when its scope is the secret, the vault, the resource group,
the subscription, or a management group above them (ARM returned it for this scope); its role
must allow `getSecret` in `dataActions` (wildcards allowed) and not exclude it in
`notDataActions`. An assignment with an ABAC condition cannot be verified here: it is reported as
such unless an unconditional grant also exists. Access-policy vaults: a policy for the principal
with secret permission `get` (or `all`) and no `applicationId`. An entry with an `applicationId`
is a compound identity: it grants that application acting on behalf of the object, not the
object calling as itself, so it does not let a credential set's identity read anything.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from shared.domain.ids import ResourceId
from shared.domain.models import RoleAssignment, RoleDefinition, VaultAccess

__all__ = [
    "GET_SECRET",
    "AccessVerdict",
    "Verdict",
    "action_matches",
    "evaluate_secret_read",
    "role_allows",
    "role_allows_action",
]

GET_SECRET = "Microsoft.KeyVault/vaults/secrets/getSecret/action"


class Verdict(StrEnum):
    ALLOWED = "allowed"
    DENIED = "denied"
    UNVERIFIABLE = (
        "unverifiable"  # only conditional grants: Azure evaluates the condition at access time
    )


@dataclass(frozen=True, slots=True)
class AccessVerdict:
    verdict: Verdict
    reason: str
    via: str | None = None

    @property
    def allowed(self) -> bool:
        return self.verdict is Verdict.ALLOWED


@lru_cache(maxsize=512)
def _pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(
        ".*".join(re.escape(part) for part in pattern.split("*")), re.IGNORECASE | re.ASCII
    )


def action_matches(pattern: str, action: str) -> bool:
    """Azure RBAC action matching: case-insensitive, `*` matches any run of characters."""
    return bool(_pattern(pattern).fullmatch(action))


def role_allows(role: RoleDefinition, data_action: str) -> bool:
    """True when some permission block of the role allows the data action and does not exclude it."""
    return any(
        any(action_matches(p, data_action) for p in block.data_actions)
        and not any(action_matches(p, data_action) for p in block.not_data_actions)
        for block in role.permissions
    )


def role_allows_action(role: RoleDefinition, action: str) -> bool:
    """True when some permission block of the role allows the control-plane action and does not
    exclude it in `notActions`."""
    return any(
        any(action_matches(p, action) for p in block.actions)
        and not any(action_matches(p, action) for p in block.not_actions)
        for block in role.permissions
    )


def _applies(assignment: RoleAssignment, secret_scope: ResourceId) -> bool:
    if assignment.scope.is_type("Microsoft.Management/managementGroups"):
        return True  # above every subscription ARM listed it for
    return assignment.scope.contains(secret_scope)


def _policy_verdict(principal: str, vault: VaultAccess) -> AccessVerdict:
    compound: str | None = None
    for policy in vault.access_policies:
        if policy.object_id.lower() != principal:
            continue
        if not {p.lower() for p in policy.secret_permissions} & {"get", "all"}:
            continue
        if policy.application_id:
            compound = compound or policy.application_id  # the app on behalf of the object
            continue
        return AccessVerdict(
            Verdict.ALLOWED, "an access policy grants secret get", f"access policy for {principal}"
        )
    if compound is not None:
        return AccessVerdict(
            Verdict.DENIED,
            f"the only access policy granting secret get is a compound identity (application "
            f"{compound} acting for this identity), which does not apply when the identity "
            "calls as itself",
        )
    return AccessVerdict(
        Verdict.DENIED, "the vault uses access policies and none grants this identity secret get"
    )


def evaluate_secret_read(
    *,
    principal_id: str,
    secret_scope: ResourceId,
    vault: VaultAccess,
    assignments: Sequence[RoleAssignment] = (),
    roles: Mapping[str, RoleDefinition] | None = None,
) -> AccessVerdict:
    """Whether `principal_id` can get the secret at `secret_scope` under the vault's model."""
    principal = principal_id.lower()
    if not vault.rbac:
        return _policy_verdict(principal, vault)
    known = {k.lower(): v for k, v in (roles or {}).items()}
    conditional: RoleAssignment | None = None
    for assignment in assignments:
        if assignment.principal_id.lower() != principal or not _applies(assignment, secret_scope):
            continue
        role = known.get(assignment.role_definition_id.lower())
        if role is None or not role_allows(role, GET_SECRET):
            continue
        if assignment.condition:
            conditional = conditional or assignment
            continue
        return AccessVerdict(
            Verdict.ALLOWED,
            f"role {role.role_name!r} at {assignment.scope} allows getSecret",
            assignment.id,
        )
    if conditional is not None:
        return AccessVerdict(
            Verdict.UNVERIFIABLE,
            f"only a conditional assignment at {conditional.scope} allows getSecret; cannot verify the condition",
            conditional.id,
        )
    return AccessVerdict(
        Verdict.DENIED, "no role assignment at the secret, vault or above allows getSecret"
    )
