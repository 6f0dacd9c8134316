"""Puller access evaluation: Entra roles in both registry modes, admin user, tokens.

Role definitions are Azure's own JSON (tests/fixtures/roles/); ABAC conditions have the shape the
ACR ABAC documentation gives.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.adapters.azure.registry_auth import to_registry_auth, to_registry_token, to_scope_map
from shared.domain.access import Verdict
from shared.domain.ids import ResourceId
from shared.domain.models import Permission, RoleAssignment, RoleDefinition
from shared.domain.puller_access import (
    condition_allows_repository,
    evaluate_admin_pull,
    evaluate_entra_pull,
    evaluate_token_pull,
    scope_map_allows,
)
from shared.domain.pullers import (
    ACR_PULL,
    PULL_READ,
    REPOSITORY_READER,
    PullerKind,
    RegistryAuth,
    RegistryToken,
    ScopeMap,
    abac_repository_condition,
    puller_from_logged_identity,
)

FIXTURES = Path(__file__).parents[1] / "fixtures"
SUB = "00000000-0000-0000-0000-000000000001"
RG = ResourceId.parse(f"/subscriptions/{SUB}/resourceGroups/rg-cache")
REGISTRY = ResourceId.parse(f"{RG}/providers/Microsoft.ContainerRegistry/registries/contosocache")
OTHER = ResourceId.parse(
    f"/subscriptions/{SUB}/resourceGroups/rg-other/providers/Microsoft.ContainerRegistry/registries/othercache"
)
MG = ResourceId.parse("/providers/Microsoft.Management/managementGroups/root")
LEGACY = RegistryAuth(REGISTRY, False, False)
ABAC = RegistryAuth(REGISTRY, False, True)
KUBELET = "5b8e1c2a-7d3f-4e9a-b6c1-2f0a9d8e7c6b"
REPO = "dockerhub/library/nginx"
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _role(name: str) -> RoleDefinition:
    data = json.loads((FIXTURES / "roles" / f"{name}.json").read_text())
    blocks = tuple(
        Permission(
            tuple(p.get("actions", [])), tuple(p.get("notActions", [])),
            tuple(p.get("dataActions", [])), tuple(p.get("notDataActions", [])),
        )
        for p in data["permissions"]
    )  # fmt: skip
    return RoleDefinition(data["name"], data["roleName"], blocks)


ROLE_FILES = (
    "AcrPull", "AcrPush", "AcrDelete", "Reader", "Owner", "Contributor",
    "ContainerRegistryRepositoryReader", "ContainerRegistryRepositoryWriter",
    "ContainerRegistryDataImporterAndDataReader", "ContainerRegistryRepositoryCatalogLister",
)  # fmt: skip
ROLES = {r.id: r for r in map(_role, ROLE_FILES)}
BY_NAME = {r.role_name: r.id for r in ROLES.values()}


def assign(scope: ResourceId, role: str, *, condition: str | None = None) -> RoleAssignment:
    return RoleAssignment("ra-1", scope, role, KUBELET, "ServicePrincipal", condition)


def entra(auth: RegistryAuth, *assignments: RoleAssignment, repo: str = REPO) -> Any:
    return evaluate_entra_pull(
        principal_id=KUBELET, auth=auth, repository=repo, assignments=assignments, roles=ROLES
    )


# -- RBAC registry-permissions mode -----------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "pulls"),
    [("AcrPull", True), ("AcrPush", True), ("Reader", True), ("Owner", True), ("Contributor", True),
     ("Container Registry Data Importer and Data Reader", True), ("AcrDelete", False),
     ("Container Registry Repository Reader", False), ("Container Registry Repository Catalog Lister", False)],
)  # fmt: skip
def test_legacy_registries_honour_the_pull_action(role: str, pulls: bool) -> None:
    verdict = entra(LEGACY, assign(REGISTRY, BY_NAME[role]))
    assert verdict.allowed is pulls
    if not pulls:
        assert verdict.missing == PULL_READ and verdict.scope == str(REGISTRY)
        assert verdict.fix == (
            f"az role assignment create --assignee {KUBELET} --role AcrPull --scope {REGISTRY}"
        )
        assert KUBELET in verdict.reason


SCOPES = st.sampled_from(
    [(REGISTRY, True), (RG, True), (ResourceId.subscription(SUB), True), (MG, True), (OTHER, False),
     (REGISTRY.child("cacheRules", "nginx"), False)]
)  # fmt: skip


@given(scope=SCOPES, abac=st.booleans())
def test_assignments_at_the_registry_or_above_apply_and_others_do_not(
    scope: tuple[ResourceId, bool], abac: bool
) -> None:
    where, applies = scope
    role = REPOSITORY_READER if abac else ACR_PULL
    verdict = entra(RegistryAuth(REGISTRY, False, abac), assign(where, role))
    assert verdict.allowed is applies


ACTIONS = st.sampled_from(
    [PULL_READ, "Microsoft.ContainerRegistry/registries/*", "Microsoft.ContainerRegistry/*/read",
     "*", "*/read", "microsoft.containerregistry/registries/pull/*", "Microsoft.ContainerRegistry/registries/push/write",
     "Microsoft.KeyVault/*"]
)  # fmt: skip


@given(actions=st.lists(ACTIONS, max_size=3), not_actions=st.lists(ACTIONS, max_size=2))
def test_custom_roles_pull_when_an_action_matches_and_no_not_action_excludes_it(
    actions: list[str], not_actions: list[str]
) -> None:
    custom = RoleDefinition(
        "99999999-0000-0000-0000-000000000000", "custom puller",
        (Permission(tuple(actions), tuple(not_actions)),), True,
    )  # fmt: skip
    from shared.domain.access import action_matches

    expected = any(action_matches(a, PULL_READ) for a in actions) and not any(
        action_matches(n, PULL_READ) for n in not_actions
    )
    verdict = evaluate_entra_pull(
        principal_id=KUBELET, auth=LEGACY, repository=REPO,
        assignments=[assign(REGISTRY, custom.id)], roles={custom.id: custom},
    )  # fmt: skip
    assert verdict.allowed is expected


def test_another_principal_s_assignment_grants_nothing() -> None:
    other = RoleAssignment("ra-2", REGISTRY, ACR_PULL, "someone-else", None, None)
    assert not entra(LEGACY, other).allowed


# -- ABAC repository-permissions mode ---------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "pulls"),
    [("AcrPull", False), ("AcrPush", False), ("Owner", False), ("Contributor", False), ("Reader", False),
     ("Container Registry Repository Reader", True), ("Container Registry Repository Writer", True),
     ("Container Registry Data Importer and Data Reader", True)],
)  # fmt: skip
def test_abac_registries_honour_repository_roles_only(role: str, pulls: bool) -> None:
    verdict = entra(ABAC, assign(REGISTRY, BY_NAME[role]))
    assert verdict.allowed is pulls
    if role in ("AcrPull", "AcrPush"):
        assert "does not honour" in verdict.reason
        assert '--role "Container Registry Repository Reader"' in (verdict.fix or "")


REPOS = st.sampled_from(["dockerhub/library/nginx", "dockerhub/library/redis", "backend/api",
                         "backend-infra/k8s", "backendsvc/x", "ghcr/acme/tool"])  # fmt: skip


@given(granted=REPOS, pulled=REPOS)
def test_the_documented_single_repository_condition_allows_exactly_that_repository(
    granted: str, pulled: str
) -> None:
    condition = abac_repository_condition(granted)
    verdict = entra(ABAC, assign(REGISTRY, REPOSITORY_READER, condition=condition), repo=pulled)
    assert verdict.allowed is (granted == pulled)
    assert condition_allows_repository(condition.replace(granted, granted.upper()), pulled) is (
        granted == pulled
    )  # IgnoreCase


@given(prefixes=st.lists(st.sampled_from(["backend/", "dockerhub/", "backend", "ghcr/acme/"]), min_size=1, max_size=3),
       pulled=REPOS)  # fmt: skip
def test_prefix_conditions_joined_with_or(prefixes: list[str], pulled: str) -> None:
    name = "@Request[Microsoft.ContainerRegistry/registries/repositories:name]"
    ors = " OR ".join(f"{name} StringStartsWithIgnoreCase '{p}'" for p in prefixes)
    condition = (
        "((!(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/content/read'}) AND "
        "!(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/metadata/read'})) "
        f"OR ({ors}))"
    )
    assert condition_allows_repository(condition, pulled) is any(
        pulled.startswith(p) for p in prefixes
    )


def test_an_unknown_condition_shape_is_unverifiable_not_allowed() -> None:
    condition = "@Resource[Microsoft.ContainerRegistry/registries:name] StringEquals 'contosocache'"
    verdict = entra(ABAC, assign(REGISTRY, REPOSITORY_READER, condition=condition))
    assert verdict.verdict is Verdict.UNVERIFIABLE


def test_a_condition_guarding_only_metadata_does_not_restrict_pulls() -> None:
    condition = (
        "((!(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/metadata/read'})) "
        "OR (@Request[Microsoft.ContainerRegistry/registries/repositories:name] StringEqualsIgnoreCase 'x'))"
    )
    assert entra(ABAC, assign(REGISTRY, REPOSITORY_READER, condition=condition)).allowed


# -- admin user and tokens ---------------------------------------------------------------------


def test_the_admin_user_pulls_only_while_enabled_and_cachekeeper_never_enables_it() -> None:
    assert evaluate_admin_pull(RegistryAuth(REGISTRY, True, False), REPO).allowed
    verdict = evaluate_admin_pull(LEGACY, REPO)
    assert not verdict.allowed and verdict.missing == "adminUserEnabled"
    assert "never enables" in verdict.reason and "--admin-enabled" not in (verdict.fix or "")


SCOPE_MAP_ID = REGISTRY.child("scopeMaps", "ci-pull")
TOKEN_ID = REGISTRY.child("tokens", "ci-token")


def token(
    *, enabled: bool = True, expiries: tuple[datetime | None, ...] = (None,)
) -> RegistryToken:
    return RegistryToken(TOKEN_ID, "ci-token", enabled, SCOPE_MAP_ID, expiries)


@pytest.mark.parametrize(
    ("actions", "pulls"),
    [(("repositories/dockerhub/library/nginx/content/read",), True), (("repositories/dockerhub/*/content/read",), True),
     (("repositories/*/content/read",), True), (("repositories/dockerhub/library/nginx/metadata/read",), False),
     (("repositories/dockerhub/library/redis/content/read",), False), (("repositories/docker/*/content/read",), False)],
)  # fmt: skip
def test_a_token_pulls_what_its_scope_map_reads(actions: tuple[str, ...], pulls: bool) -> None:
    scope_map = ScopeMap(SCOPE_MAP_ID, actions)
    assert scope_map_allows(scope_map, REPO) is pulls
    verdict = evaluate_token_pull(token(), scope_map, auth=LEGACY, repository=REPO, now=NOW)
    assert verdict.allowed is pulls
    if not pulls:
        assert verdict.scope == str(SCOPE_MAP_ID)
        assert verdict.fix == (
            f"az acr scope-map update -n ci-pull -r contosocache --add-repository {REPO} content/read"
        )


def test_disabled_tokens_and_expired_passwords_fail() -> None:
    reads = ScopeMap(SCOPE_MAP_ID, (f"repositories/{REPO}/content/read",))
    disabled = evaluate_token_pull(
        token(enabled=False), reads, auth=LEGACY, repository=REPO, now=NOW
    )
    assert not disabled.allowed and "disabled" in disabled.reason
    expired = token(expiries=(NOW - timedelta(days=1), NOW))
    verdict = evaluate_token_pull(expired, reads, auth=LEGACY, repository=REPO, now=NOW)
    assert not verdict.allowed and "expired" in verdict.reason
    one_left = token(expiries=(NOW - timedelta(days=1), None))
    assert evaluate_token_pull(one_left, reads, auth=LEGACY, repository=REPO, now=NOW).allowed


def test_logged_identities_name_their_kind() -> None:
    assert puller_from_logged_identity(KUBELET.upper(), "contosocache").kind is PullerKind.ENTRA
    assert puller_from_logged_identity("ContosoCache", "contosocache").kind is PullerKind.ADMIN_USER
    assert puller_from_logged_identity("ci-token", "contosocache").kind is PullerKind.TOKEN
    assert puller_from_logged_identity("dev@contoso.com", "contosocache").kind is PullerKind.UNKNOWN
    for nobody in ("", "unknown", "00000000-0000-0000-0000-000000000000", None):
        assert puller_from_logged_identity(nobody, "contosocache") is None


def _example(name: str) -> Any:
    return json.loads((FIXTURES / "puller-examples" / f"{name}.json").read_text())


def test_the_azure_adapter_reads_arm_s_examples() -> None:
    from azure.mgmt.containerregistry import models

    abac = models.Registry(_example("RegistryCreateAbac")["responses"]["200"]["body"])
    auth = to_registry_auth(REGISTRY, abac)
    assert auth.admin_user_enabled and auth.abac_repository_permissions
    legacy = models.Registry(_example("RegistryGet")["responses"]["200"]["body"])
    assert not to_registry_auth(REGISTRY, legacy).abac_repository_permissions
    (item,) = _example("TokenList")["responses"]["200"]["body"]["value"]
    parsed = to_registry_token(models.Token(item))
    assert parsed is not None and parsed.enabled and parsed.name == "myToken"
    assert parsed.scope_map_id is not None and parsed.scope_map_id.name == "myScopeMap"
    body = _example("ScopeMapGet")["responses"]["200"]["body"]
    scope_map = to_scope_map(ResourceId.parse(body["id"]), models.ScopeMap(body))
    assert scope_map.actions == (
        "repositories/myrepository/contentWrite",
        "repositories/myrepository/delete",
    )
