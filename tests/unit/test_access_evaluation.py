from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.domain.access import (
    GET_SECRET,
    Verdict,
    action_matches,
    evaluate_secret_read,
    role_allows,
)
from shared.domain.ids import ResourceId
from shared.domain.models import (
    KEY_VAULT_SECRETS_USER,
    AccessPolicy,
    Permission,
    RoleAssignment,
    RoleDefinition,
    VaultAccess,
)

SUB = "00000000-0000-0000-0000-000000000001"
VAULT = ResourceId.parse(
    f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-cache"
)
SECRET = VAULT.child("secrets", "hub-token")
RBAC = VaultAccess(VAULT, True)
USER_ROLE = RoleDefinition(
    KEY_VAULT_SECRETS_USER, "Key Vault Secrets User", (Permission(data_actions=(GET_SECRET,)),)
)


def role(data: tuple[str, ...], not_data: tuple[str, ...] = ()) -> RoleDefinition:
    return RoleDefinition(
        "11111111-1111-1111-1111-111111111111",
        "custom",
        (Permission(data_actions=data, not_data_actions=not_data),),
        True,
    )


def assign(
    scope: ResourceId,
    role_id: str = KEY_VAULT_SECRETS_USER,
    *,
    principal: str = "p",
    condition: str | None = None,
) -> RoleAssignment:
    return RoleAssignment("a", scope, role_id, principal, "ServicePrincipal", condition)


@pytest.mark.parametrize(
    ("pattern", "matches"),
    [("Microsoft.KeyVault/vaults/*", True), ("microsoft.keyvault/vaults/secrets/*", True), ("*", True),
     ("Microsoft.KeyVault/vaults/secrets/getSecret/action", True), ("Microsoft.KeyVault/vaults/keys/*", False),
     ("Microsoft.KeyVault/vaults/secrets/readMetadata/action", False), ("Microsoft.KeyVault/vaults/*/read", False)],
)  # fmt: skip
def test_wildcard_matching(pattern: str, matches: bool) -> None:
    assert action_matches(pattern, GET_SECRET) is matches


def test_not_data_actions_subtract() -> None:
    assert role_allows(role(("Microsoft.KeyVault/vaults/*",)), GET_SECRET)
    assert not role_allows(
        role(("Microsoft.KeyVault/vaults/*",), ("Microsoft.KeyVault/vaults/secrets/*",)), GET_SECRET
    )


@pytest.mark.parametrize(
    "scope",
    [
        SECRET,
        VAULT,
        VAULT.parent,
        ResourceId.subscription(SUB),
        ResourceId.parse("/providers/Microsoft.Management/managementGroups/root"),
    ],
)
def test_assignments_at_or_above_the_secret_apply(scope: ResourceId) -> None:
    verdict = evaluate_secret_read(
        principal_id="P",
        secret_scope=SECRET,
        vault=RBAC,
        assignments=[assign(scope)],
        roles={KEY_VAULT_SECRETS_USER: USER_ROLE},
    )
    assert verdict.verdict is Verdict.ALLOWED


def test_assignments_on_other_secrets_or_principals_do_not_apply() -> None:
    sibling = assign(VAULT.child("secrets", "other"))
    stranger = assign(VAULT, principal="q")
    verdict = evaluate_secret_read(
        principal_id="p",
        secret_scope=SECRET,
        vault=RBAC,
        assignments=[sibling, stranger],
        roles={KEY_VAULT_SECRETS_USER: USER_ROLE},
    )
    assert verdict.verdict is Verdict.DENIED


def test_conditions_cannot_be_verified_unless_an_unconditional_grant_exists() -> None:
    conditional = assign(VAULT, condition="@Resource[...] StringEquals 'x'")
    roles = {KEY_VAULT_SECRETS_USER: USER_ROLE}
    assert (
        evaluate_secret_read(
            principal_id="p",
            secret_scope=SECRET,
            vault=RBAC,
            assignments=[conditional],
            roles=roles,
        ).verdict
        is Verdict.UNVERIFIABLE
    )
    both = [conditional, assign(SECRET)]
    assert evaluate_secret_read(
        principal_id="p", secret_scope=SECRET, vault=RBAC, assignments=both, roles=roles
    ).allowed


@pytest.mark.parametrize(
    ("permissions", "allowed"),
    [(("get",), True), (("Get", "List"), True), (("all",), True), (("list",), False), ((), False)],
)
def test_access_policies_need_get(permissions: tuple[str, ...], allowed: bool) -> None:
    vault = VaultAccess(VAULT, False, (AccessPolicy("t", "P", permissions),))
    assert (
        evaluate_secret_read(principal_id="p", secret_scope=SECRET, vault=vault).allowed is allowed
    )


def test_a_compound_identity_policy_is_not_a_grant_to_the_identity_itself() -> None:
    compound = AccessPolicy("t", "P", ("get", "list"), application_id="app-1")
    verdict = evaluate_secret_read(
        principal_id="p", secret_scope=SECRET, vault=VaultAccess(VAULT, False, (compound,))
    )
    assert verdict.verdict is Verdict.DENIED and "compound identity" in verdict.reason
    own = AccessPolicy("t", "P", ("get",))
    both = VaultAccess(VAULT, False, (compound, own))
    assert evaluate_secret_read(principal_id="p", secret_scope=SECRET, vault=both).allowed


def test_rbac_vaults_ignore_access_policies() -> None:
    vault = VaultAccess(VAULT, True, (AccessPolicy("t", "p", ("get",)),))
    assert not evaluate_secret_read(principal_id="p", secret_scope=SECRET, vault=vault).allowed


_segment = st.sampled_from(
    ["Microsoft.KeyVault", "vaults", "secrets", "keys", "getSecret", "action", "*", "read"]
)


@given(st.lists(_segment, min_size=1, max_size=6).map("/".join))
def test_a_pattern_without_wildcards_matches_only_itself(pattern: str) -> None:
    if "*" not in pattern:
        assert action_matches(pattern, GET_SECRET) is (pattern.lower() == GET_SECRET.lower())
    assert action_matches(pattern, pattern)
