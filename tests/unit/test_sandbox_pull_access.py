"""The sandbox's pull evaluation (sandbox/pull_access.py): scope inheritance, custom roles with
wildcards and notActions, the two role-assignment modes, ABAC conditions, tokens, scope maps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from sandbox.pull_access import (
    condition_allows,
    entra_can_pull,
    scope_map_allows,
    token_can_login,
)
from sandbox.roles import builtin_roles
from sandbox.scenario import build_state
from sandbox.state import Permission, RoleAssignment, RoleDefinition
from sandbox.state_auth import ABAC_MODE, RegistryAuth, ScopeMap, Token, TokenPassword

SUB = "00000000-0000-0000-0000-000000000001"
RG = f"/subscriptions/{SUB}/resourceGroups/rg-cache"
REGISTRY = f"{RG}/providers/Microsoft.ContainerRegistry/registries/contosocache"
WHO = "6f1d3c2a-0000-4000-8000-0000000000a1"
NOW = datetime(2026, 6, 1, tzinfo=UTC)
ROLES = builtin_roles()
LEGACY, ABAC = RegistryAuth(), RegistryAuth(role_assignment_mode=ABAC_MODE)
SCOPES = ["/", f"/subscriptions/{SUB}", RG, REGISTRY]
names = st.from_regex(r"[a-z][a-z0-9-]{0,8}(/[a-z][a-z0-9-]{0,8}){0,2}", fullmatch=True)


def by_name(name: str) -> str:
    return next(r.guid for r in ROLES.values() if r.role_name == name)


def grant(role: str, scope: str = REGISTRY, condition: str | None = None) -> RoleAssignment:
    return RoleAssignment("a1", scope, role, WHO, "ServicePrincipal", NOW, condition)


def can(
    auth: RegistryAuth,
    repo: str,
    *assignments: RoleAssignment,
    roles: dict[str, RoleDefinition] = ROLES,
) -> bool:
    return entra_can_pull(WHO, REGISTRY, repo, auth, assignments=assignments, roles=roles).allowed


@given(st.sampled_from(SCOPES), names)
def test_acr_pull_at_or_above_the_registry_pulls_every_repository_in_legacy_mode(
    scope: str, repo: str
) -> None:
    assert can(LEGACY, repo, grant(by_name("AcrPull"), scope))
    assert not can(ABAC, repo, grant(by_name("AcrPull"), scope)), "ABAC mode ignores AcrPull"


@given(names)
def test_a_grant_on_another_registry_or_below_it_pulls_nothing(repo: str) -> None:
    other = f"{RG}/providers/Microsoft.ContainerRegistry/registries/other"
    assert not can(LEGACY, repo, grant(by_name("AcrPull"), other))
    assert not can(LEGACY, repo, grant(by_name("AcrPull"), f"{REGISTRY}/repositories/{repo}"))
    assert not can(LEGACY, repo), "no assignment, no pull"


def test_broad_built_ins_pull_in_legacy_mode_only() -> None:
    for role in ("Reader", "Contributor", "Owner", "AcrPush"):
        assert can(LEGACY, "team-a/api", grant(by_name(role))), role
        assert not can(ABAC, "team-a/api", grant(by_name(role))), role
    importer = grant(by_name("Container Registry Data Importer and Data Reader"))
    assert can(LEGACY, "team-a/api", importer) and can(ABAC, "team-a/api", importer)


@given(
    st.sampled_from(
        [
            "Microsoft.ContainerRegistry/*",
            "*/read",
            "*",
            "Microsoft.ContainerRegistry/registries/pull/*",
        ]
    )
)
def test_custom_roles_with_wildcards_and_not_actions(action: str) -> None:
    custom = RoleDefinition("c1", "custom", "CustomRole", "", ["/"], [Permission([action])])
    denied = RoleDefinition("c2", "custom2", "CustomRole", "", ["/"],
                            [Permission([action], ["Microsoft.ContainerRegistry/registries/pull/read"])])  # fmt: skip
    roles = {"c1": custom, "c2": denied}
    assert can(LEGACY, "team-a/api", grant("c1"), roles=roles)
    assert not can(LEGACY, "team-a/api", grant("c2"), roles=roles)


@given(names, names)
def test_a_repository_condition_admits_exactly_its_repository(named: str, asked: str) -> None:
    condition = ("((!(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/content/read'}))"
                 f" OR (@Request[Microsoft.ContainerRegistry/registries/repositories:name] StringEqualsIgnoreCase '{named}'))")  # fmt: skip
    reader = grant(by_name("Container Registry Repository Reader"), condition=condition)
    assert can(ABAC, asked, reader) == (asked.lower() == named.lower())
    assert can(ABAC, asked, grant(by_name("Container Registry Repository Reader"))), (
        "no condition: all"
    )
    assert not can(LEGACY, asked, reader), "legacy mode does not honour data-action roles"


@given(names)
def test_a_prefix_condition_needs_its_trailing_slash(repo: str) -> None:
    condition = ("@Request[Microsoft.ContainerRegistry/registries/repositories:name] "
                 "StringStartsWithIgnoreCase 'backend/'")  # fmt: skip
    assert condition_allows(condition, f"backend/{repo}")
    assert not condition_allows(condition, f"backend-infra/{repo}")
    assert not condition_allows("something the sandbox cannot read", repo)


@given(names)
def test_scope_maps_read_exact_wildcard_and_root(repo: str) -> None:
    def allows(*actions: str) -> bool:
        return scope_map_allows(ScopeMap("m", list(actions), NOW), repo).allowed

    assert allows(f"repositories/{repo}/content/read")
    assert allows("repositories/*/content/read")
    assert not allows(f"repositories/{repo}/content/write", f"repositories/{repo}/metadata/read")
    assert allows(f"repositories/{repo}/metadata/read", f"repositories/{repo}/content/read"), (
        "additive"
    )
    head = repo.split("/", maxsplit=1)[0]
    assert allows(f"repositories/{head}/*/content/read") == ("/" in repo)


def test_token_logins() -> None:
    live = TokenPassword("password1", "pw-1", NOW, NOW + timedelta(days=1))
    token = Token("ci-puller", None, NOW, "enabled", [live])
    assert token_can_login(token, "pw-1", NOW).allowed
    assert not token_can_login(token, "pw-1", NOW + timedelta(days=1)).allowed, "expired"
    assert not token_can_login(token, "other", NOW).allowed
    token.status = "disabled"
    assert not token_can_login(token, "pw-1", NOW).allowed
    assert not token_can_login(None, "pw-1", NOW).allowed


def test_scenarios_seed_the_registry_authentication() -> None:
    state = build_state({"registries": [{
        "name": "contosocache", "resourceGroup": "rg-cache", "adminUserEnabled": True,
        "roleAssignmentMode": ABAC_MODE,
        "scopeMaps": [{"name": "team-pull", "actions": ["repositories/team/*/content/read"]}],
        "tokens": [{"name": "ci-token", "scopeMap": "team-pull", "status": "disabled",
                    "passwords": [{"name": "password1", "value": "pw", "expiry": "+1d"}]}],
    }]}, NOW)  # fmt: skip
    auth = next(iter(state.registries.values())).auth
    assert auth.admin_user_enabled and auth.role_assignment_mode == ABAC_MODE
    token = auth.tokens["ci-token"]
    assert token.status == "disabled" and token.scope_map_id is not None
    assert token.scope_map_id.endswith("/scopeMaps/team-pull")
    assert token.passwords[0].expiry == NOW + timedelta(days=1)
