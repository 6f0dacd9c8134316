"""Reverse mapping of target paths to upstreams: accepted only when the policy round-trips."""

from __future__ import annotations

from typing import Any

from hypothesis import assume, given
from hypothesis import strategies as st

from shared.domain.audit import squatting_findings
from shared.domain.models import CredentialSet
from shared.domain.policies import Policy, decide
from shared.domain.policy_targets import upstream_for_target
from shared.domain.repositories import TargetPath, Upstream
from shared.domain.secrets import SecretRef
from shared.errors import InvalidInputError
from shared.services import ReactionStatus
from shared.services.reactions import react
from shared.signals import PULL_FAILURES
from tests.fakes import CONTOSO, World, make_world

HUB = {"id": "hub", "upstream": "docker.io/*", "action": "allow", "targetTemplate": "hub/{path}",
       "credentialSet": "hubcreds"}  # fmt: skip


def rows(*data: dict[str, Any]) -> list[Policy]:
    return [Policy.from_dict(d) for d in data]


def reverse(target: str, policies: list[Policy], registry: str = "contosocache") -> str | None:
    upstream = upstream_for_target(TargetPath.parse(target), policies, registry=registry)
    return None if upstream is None else str(upstream)


def test_a_docker_hub_path_the_policy_never_produces_maps_to_nothing() -> None:
    table = rows(HUB)
    # docker.io/nginx is docker.io/library/nginx, which the row puts at hub/library/nginx
    assert reverse("hub/nginx", table) is None
    assert reverse("hub/library/nginx", table) == "docker.io/library/nginx"
    assert reverse("hub/bitnami/redis", table) == "docker.io/bitnami/redis"


def test_a_more_specific_row_or_a_deny_row_decides_the_candidate_upstream() -> None:
    table = rows(
        {"id": "acme", "upstream": "ghcr.io/acme/*", "action": "allow", "targetTemplate": "x/{path}"},
        {"id": "tools", "upstream": "ghcr.io/acme/tools/*", "action": "allow", "targetTemplate": "y/{path}"},
        {"id": "secret", "upstream": "ghcr.io/acme/secret", "action": "deny"},
    )  # fmt: skip
    assert reverse("x/tools/cli", table) is None  # ghcr.io/acme/tools/cli goes to y/cli
    assert reverse("y/cli", table) == "ghcr.io/acme/tools/cli"
    assert reverse("x/secret", table) is None  # denied: nothing would be cached there
    assert reverse("x/web", table) == "ghcr.io/acme/web"


def test_a_wildcard_rule_over_the_target_is_a_round_trip() -> None:
    table = rows({"id": "acme", "upstream": "ghcr.io/acme/*", "action": "allow",
                  "ruleKind": "wildcard", "targetTemplate": "ghcr/acme/{path}"})  # fmt: skip
    assert reverse("ghcr/acme/tools/cli", table) == "ghcr.io/acme/tools/cli"
    assert reverse("ghcr/other", table) is None


def test_squatting_findings_follow_the_round_trip() -> None:
    paths = [TargetPath.parse("hub/nginx"), TargetPath.parse("hub/library/nginx")]
    found = squatting_findings(CONTOSO, paths, [], rows(HUB))
    assert [f.resource for f in found] == ["contosocache/hub/library/nginx"]


def hub_world() -> World:
    world = make_world()
    ref = SecretRef.parse("https://kv-cache.vault.azure.net/secrets/user")
    world.registry.add_credential_set(
        CredentialSet(CONTOSO.child("credentialSets", "hubcreds"), "docker.io", ref, ref)
    )
    world.policies.put_policy(Policy.from_dict(HUB))
    return world


def pull_404(repository: str, event_id: str) -> dict[str, Any]:
    return {"specversion": "1.0", "id": event_id, "source": "/cachekeeper/test",
            "type": "cachekeeper.PullFailed", "time": "2026-11-23T10:00:00Z",
            "data": {"registry": str(CONTOSO), "repository": repository, "tag": "latest", "status": 404}}  # fmt: skip


def test_a_404_on_a_path_the_policy_never_produces_creates_nothing_and_says_why() -> None:
    world = hub_world()
    refused = react(PULL_FAILURES, pull_404("hub/nginx", "pf-1"), world.ctx)
    assert refused.status is ReactionStatus.REJECTED
    assert "no allow row of the policy table maps a target to hub/nginx" in refused.reason
    assert world.registry.writes == []
    created = react(PULL_FAILURES, pull_404("hub/library/nginx", "pf-2"), world.ctx)
    assert created.status is ReactionStatus.APPLIED
    (rule,) = world.registry.cache_rules.values()
    assert (str(rule.source), str(rule.target)) == ("docker.io/library/nginx", "hub/library/nginx")
    again = react(PULL_FAILURES, pull_404("hub/nginx", "pf-3"), world.ctx)
    assert again.status is ReactionStatus.REJECTED  # not "already served": nothing serves it
    assert len(world.registry.cache_rules) == 1


# ---- the round trip as a property, over generated tables --------------------------------------

COMPONENTS = st.sampled_from(["a", "b", "library", "nginx", "x", "hub"])
HOSTS = st.sampled_from(["docker.io", "ghcr.io", "quay.io"])
NAMESPACES = st.sampled_from(["hub", "x", "x/y", "a"])


@st.composite
def policy_rows(draw: st.DrawFn, index: int) -> Policy | None:
    host = draw(HOSTS)
    wildcard = draw(st.booleans())
    path = draw(st.lists(COMPONENTS, min_size=0 if wildcard else 1, max_size=2))
    upstream = "/".join([host, *path, *(["*"] if wildcard else [])])
    namespace = draw(NAMESPACES)
    placeholders = ["{path}", "{repository}"] + ([] if wildcard else ["{name}", "fixed"])
    data: dict[str, Any] = {
        "id": f"row{index}", "upstream": upstream,
        "action": draw(st.sampled_from(["allow", "allow", "deny"])),
        "targetTemplate": f"{namespace}/{draw(st.sampled_from(placeholders))}",
        "priority": draw(st.integers(0, 3)),
        "registry": draw(st.sampled_from(["*", "*", "contosocache", "fabrikamcache"])),
    }  # fmt: skip
    if wildcard and data["targetTemplate"].endswith("{path}") and draw(st.booleans()):
        data["ruleKind"] = "wildcard"
    if host == "docker.io":
        data["credentialSet"] = "hubcreds"
    try:
        return Policy.from_dict(data)
    except InvalidInputError:
        return None


@st.composite
def tables(draw: st.DrawFn) -> list[Policy]:
    drawn = [draw(policy_rows(i)) for i in range(draw(st.integers(1, 6)))]
    return [p for p in drawn if p is not None]


def repositories(min_size: int = 1) -> st.SearchStrategy[tuple[str, ...]]:
    return st.lists(COMPONENTS, min_size=min_size, max_size=4).map(tuple)


@given(tables(), repositories())
def test_a_mapped_upstream_is_decided_back_to_the_same_target(
    table: list[Policy], path: tuple[str, ...]
) -> None:
    target = TargetPath(path)
    upstream = upstream_for_target(target, table, registry="contosocache")
    if upstream is not None:
        rule = decide(upstream, table, registry="contosocache").rule
        assert rule is not None and rule.target.covers(target)


@given(tables(), HOSTS, repositories())
def test_every_target_the_policy_produces_maps_back(
    table: list[Policy], host: str, path: tuple[str, ...]
) -> None:
    try:
        upstream = Upstream.parse("/".join([host, *path]))
    except InvalidInputError:
        assume(False)
        return
    decision = decide(upstream, table, registry="contosocache")
    assume(decision.rule is not None and decision.policy is not None)
    assert decision.rule is not None and decision.policy is not None
    winner, rule = decision.policy, decision.rule
    assume("{name}" not in (winner.target_template or "") or not winner.upstream.is_wildcard)
    # a wildcard rule: the repository it caches this upstream at
    rest = upstream.path[len(winner.upstream.path) - 1 :]
    target = TargetPath((*rule.target.prefix, *rest)) if rule.is_wildcard else rule.target
    mapped = upstream_for_target(target, table, registry="contosocache")
    assert mapped is not None
    back = decide(mapped, table, registry="contosocache").rule
    assert back is not None and back.target.covers(target)
