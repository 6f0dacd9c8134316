"""The upstream authentication table, the catalog check for new rules, and refusal memory."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.domain.cache_rules import RuleSpec, blocking_repositories, check_new_rule
from shared.domain.ids import ResourceId
from shared.domain.models import CacheRule
from shared.domain.refusals import CreateGuard, RuleRefusal, refusal_state
from shared.domain.repositories import TargetPath, Upstream
from shared.domain.upstreams import (
    UpstreamAuth,
    auth_mode,
    credential_problem,
    login_server_mismatch,
)

REGISTRY = ResourceId.parse(
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/reg1"
)


def paths(*names: str) -> list[TargetPath]:
    return [TargetPath.parse(n) for n in names]


@pytest.mark.parametrize(
    ("host", "mode"),
    [
        ("docker.io", UpstreamAuth.CREDENTIALS_REQUIRED),
        ("registry-1.docker.io", UpstreamAuth.CREDENTIALS_REQUIRED),
        ("dhi.io", UpstreamAuth.CREDENTIALS_REQUIRED),
        ("us-docker.pkg.dev", UpstreamAuth.CREDENTIALS_REQUIRED),
        ("registry.redhat.io", UpstreamAuth.CREDENTIALS_REQUIRED),
        ("upstream.azurecr.io", UpstreamAuth.IDENTITY),
        ("mcr.microsoft.com", UpstreamAuth.ANONYMOUS_ONLY),
        ("public.ecr.aws", UpstreamAuth.ANONYMOUS_ONLY),
        ("registry.access.redhat.com", UpstreamAuth.ANONYMOUS_ONLY),
        ("ghcr.io", UpstreamAuth.EITHER),
        ("quay.io", UpstreamAuth.EITHER),
        ("registry.k8s.io", UpstreamAuth.EITHER),
        ("gcr.io", UpstreamAuth.EITHER),
        ("nvcr.io", UpstreamAuth.EITHER),
        ("registry.example.com", UpstreamAuth.UNKNOWN),
        ("pkg.dev.example.com", UpstreamAuth.UNKNOWN),
    ],
)
def test_the_support_table(host: str, mode: UpstreamAuth) -> None:
    assert auth_mode(host) is mode


def test_credential_problems_follow_the_table() -> None:
    assert credential_problem("dhi.io", has_credential_set=False) is not None
    assert credential_problem("dhi.io", has_credential_set=True) is None
    assert credential_problem("mcr.microsoft.com", has_credential_set=True) is not None
    assert credential_problem("mcr.microsoft.com", has_credential_set=False) is None
    assert credential_problem("ghcr.io", has_credential_set=True) is None
    assert credential_problem("ghcr.io", has_credential_set=False) is None
    assert credential_problem("registry.example.com", has_credential_set=True) is None
    assert credential_problem("registry.example.com", has_credential_set=False) is None


def test_login_server_mismatch_treats_docker_hub_aliases_as_one() -> None:
    assert not login_server_mismatch("index.docker.io", "docker.io")
    assert not login_server_mismatch("GHCR.io", "ghcr.io")
    assert login_server_mismatch("quay.io", "ghcr.io")


def test_blocking_repositories_of_a_wildcard_are_those_under_its_prefix() -> None:
    repos = paths("team-a/api", "team-a/worker", "team-ab/x", "team-a", "other/app")
    assert blocking_repositories(TargetPath.parse("team-a/*"), repos) == paths(
        "team-a/api", "team-a/worker"
    )
    assert blocking_repositories(TargetPath.parse("*"), repos) == sorted(repos, key=str)
    assert blocking_repositories(TargetPath.parse("team-a/api"), repos) == paths("team-a/api")
    assert blocking_repositories(TargetPath.parse("none/*"), repos) == []


def spec(target: str, source: str = "ghcr.io/team-a/*") -> RuleSpec:
    return RuleSpec(
        "team-a-all", Upstream.parse(source, allow_wildcard=True), TargetPath.parse(target)
    )


def test_check_new_rule_names_the_blocking_repositories_only_when_the_catalog_is_known() -> None:
    repos = paths("team-a/api", "team-a/worker")
    (reason,) = check_new_rule(spec("team-a/*"), [], repositories=repos)
    assert "team-a/api, team-a/worker" in reason and "2 repositories" in reason
    assert check_new_rule(spec("team-a/*"), []) == []
    assert check_new_rule(spec("team-b/*", "ghcr.io/team-b/*"), [], repositories=repos) == []


def test_a_refusal_holds_for_the_same_state_only() -> None:
    rules = [CacheRule(REGISTRY.child("cacheRules", "x-rule"), Upstream.parse("ghcr.io/x/y"),
                       TargetPath.parse("x/y"))]  # fmt: skip
    wanted = spec("team-a/*")
    rule_id = str(REGISTRY.child("cacheRules", wanted.name))
    at = datetime(2026, 1, 1, tzinfo=UTC)
    state = refusal_state(wanted, rules, None)
    refusal = RuleRefusal(rule_id, state, "409 TargetRepositoryPrefixMatchesExistingRegistries", at)
    assert refusal.registry == str(REGISTRY)
    assert RuleRefusal.from_dict(refusal.to_dict()) == refusal
    assert CreateGuard(None, (refusal,)).refusal(rule_id, wanted, rules) == refusal
    assert CreateGuard(None, (refusal,)).refusal(rule_id, wanted, []) is None  # rules changed
    known = CreateGuard(tuple(paths("team-a/api")), (refusal,))
    assert known.refusal(rule_id, wanted, rules) is None  # catalog now readable: another state
    assert known.blockers(wanted) == paths("team-a/api")


def test_the_memory_registry_refuses_a_wildcard_over_existing_repositories_as_acr_does() -> None:
    from shared.adapters.memory import MemoryRegistry
    from shared.errors import PolicyViolationError

    registry = MemoryRegistry([REGISTRY])
    registry.repositories[REGISTRY].add(TargetPath.parse("team-a/api"))
    with pytest.raises(PolicyViolationError, match="team-a/api"):
        registry.create_cache_rule(REGISTRY, spec("team-a/*"))
    registry.repositories[REGISTRY].clear()
    assert registry.create_cache_rule(REGISTRY, spec("team-a/*")).target == TargetPath.parse(
        "team-a/*"
    )
