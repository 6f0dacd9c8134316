"""Property tests for the sandbox's independent Key Vault access evaluation."""

from __future__ import annotations

import fnmatch
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from sandbox.access import (
    GET_SECRET,
    access_policy_allows,
    action_matches,
    can_get_secret,
    role_grants_data_action,
    scope_covers,
)
from sandbox.state import Permission, RoleAssignment, RoleDefinition, Vault

NOW = datetime(2026, 1, 1, tzinfo=UTC)
SUB = "/subscriptions/00000000-0000-0000-0000-000000000001"
PRINCIPAL = "aaaaaaaa-0000-0000-0000-000000000001"
segment = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABC0123456789.-", min_size=1, max_size=8)
actions = st.lists(segment, min_size=1, max_size=5).map("/".join)


def _vault(rbac: bool = True, policies: list[dict[str, object]] | None = None) -> Vault:
    return Vault(SUB[15:], "rg-secrets", "kv-test", "westeurope", "tenant", rbac, policies or [])


def _role(data: list[str], not_data: list[str] | None = None) -> RoleDefinition:
    return RoleDefinition(
        "r0", "role", "CustomRole", "", ["/"], [Permission([], [], data, not_data or [])]
    )


def _assign(scope: str, role: str = "r0", principal: str = PRINCIPAL) -> RoleAssignment:
    return RoleAssignment("g", scope, role, principal, "ServicePrincipal", NOW)


@given(actions, st.data())
def test_action_matching_agrees_with_a_glob_oracle(action: str, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(action)))
    end = data.draw(st.integers(start, len(action)))
    pattern = action[:start] + "*" + action[end:]
    assert action_matches(pattern, action)
    assert action_matches(pattern.upper(), action.lower())
    other = data.draw(actions)
    assert action_matches(pattern, other) == fnmatch.fnmatchcase(other.lower(), pattern.lower())


@given(actions)
def test_star_matches_everything_and_exact_matches_itself(action: str) -> None:
    assert action_matches("*", action)
    assert action_matches(action, action)
    assert not action_matches(action + "x", action)


@given(st.lists(actions, max_size=4), st.lists(actions, max_size=4), actions)
def test_not_data_actions_always_win(data: list[str], not_data: list[str], action: str) -> None:
    role = _role([*data, action], [*not_data, action])
    assert not role_grants_data_action(role, action)


def test_builtin_style_wildcards_grant_get_secret() -> None:
    for pattern in (
        "*",
        "Microsoft.KeyVault/vaults/*",
        "Microsoft.KeyVault/vaults/secrets/*",
        GET_SECRET,
    ):
        assert role_grants_data_action(_role([pattern]), GET_SECRET)
    assert not role_grants_data_action(_role(["Microsoft.KeyVault/vaults/*/read"]), GET_SECRET)
    assert not role_grants_data_action(
        _role(["Microsoft.KeyVault/vaults/secrets/readMetadata/action"]), GET_SECRET
    )
    # Two blocks: one block's notDataActions do not cancel another block's grant.
    two = RoleDefinition(
        "r0",
        "r",
        "CustomRole",
        "",
        ["/"],
        [Permission([], [], ["*"], [GET_SECRET]), Permission([], [], [GET_SECRET], [])],
    )
    assert role_grants_data_action(two, GET_SECRET)


@given(st.sampled_from(["username", "password", "a-b-c"]), st.integers(0, 5))
def test_every_ancestor_scope_grants_and_nothing_else_does(secret: str, depth: int) -> None:
    vault = _vault()
    target = vault.secret_scope(secret)
    parts = target.split("/")
    ancestors = ["/".join(parts[:n]) or "/" for n in range(1, len(parts) + 1)]
    roles = {"r0": _role([GET_SECRET])}
    for scope in ancestors:
        if (
            scope in ("/subscriptions", f"{SUB}/resourceGroups", f"{vault.id}/secrets")
            or scope.endswith("/providers")
            or scope.endswith("/vaults")
            or scope.endswith("Microsoft.KeyVault")
        ):
            continue
        assert can_get_secret(
            PRINCIPAL, vault, secret, assignments=[_assign(scope)], roles=roles
        ).allowed, scope
    sibling = vault.secret_scope(secret + "x" * (depth + 1))
    assert not can_get_secret(
        PRINCIPAL, vault, secret, assignments=[_assign(sibling)], roles=roles
    ).allowed
    other_vault = vault.id + "2"
    assert not can_get_secret(
        PRINCIPAL, vault, secret, assignments=[_assign(other_vault)], roles=roles
    ).allowed
    someone_else = _assign(vault.id, principal="bbbbbbbb-0000-0000-0000-000000000002")
    assert not can_get_secret(
        PRINCIPAL, vault, secret, assignments=[someone_else], roles=roles
    ).allowed


def test_management_group_scope_covers_member_subscriptions_only() -> None:
    groups = {"mg-platform": [SUB.rsplit("/", 1)[-1]]}
    mg = "/providers/Microsoft.Management/managementGroups/mg-platform"
    assert scope_covers(mg, f"{SUB}/resourceGroups/rg/x", groups)
    assert not scope_covers(mg, "/subscriptions/other/resourceGroups/rg", groups)
    assert scope_covers("/", f"{SUB}/resourceGroups/rg")


@given(
    st.lists(
        st.sampled_from(["get", "GET", "Get", "all", "ALL", "list", "set", "delete", "purge"]),
        max_size=4,
    )
)
def test_access_policy_needs_get_or_all(permissions: list[str]) -> None:
    policies = [{"objectId": PRINCIPAL.upper(), "permissions": {"secrets": permissions}}]
    expected = any(p.lower() in ("get", "all") for p in permissions)
    assert access_policy_allows(PRINCIPAL, policies).allowed == expected
    assert not access_policy_allows("someone-else", policies).allowed


def test_each_vault_model_ignores_the_other_models_grants() -> None:
    policy = [{"objectId": PRINCIPAL, "permissions": {"secrets": ["get"]}}]
    roles = {"r0": _role([GET_SECRET])}
    rbac_vault, policy_vault = _vault(True, policy), _vault(False, [])
    assert not can_get_secret(PRINCIPAL, rbac_vault, "s", assignments=[], roles=roles).allowed
    assert not can_get_secret(
        PRINCIPAL, policy_vault, "s", assignments=[_assign(policy_vault.id)], roles=roles
    ).allowed
    assert can_get_secret(
        PRINCIPAL, _vault(False, policy), "s", assignments=[], roles=roles
    ).allowed


def test_conditions_are_treated_as_satisfied() -> None:
    vault = _vault()
    conditional = _assign(vault.id)
    conditional.condition = "@Resource[Microsoft.KeyVault/vaults/secrets:name] StringEquals 'x'"
    assert can_get_secret(
        PRINCIPAL, vault, "other", assignments=[conditional], roles={"r0": _role([GET_SECRET])}
    ).allowed
