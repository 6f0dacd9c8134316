from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shared.domain.cache_rules import RuleSpec, check_new_rule, derive_rule_name, find_serving_rule
from shared.domain.ids import ResourceId
from shared.domain.models import CacheRule
from shared.domain.names import validate_rule_name
from shared.domain.repositories import TargetPath, Upstream

REGISTRY = ResourceId.parse(
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg"
    "/providers/Microsoft.ContainerRegistry/registries/contosocache"
)


def rule(name: str, source: str, target: str, credential: str | None = "dockerhub") -> CacheRule:
    cred = REGISTRY.child("credentialSets", credential) if credential else None
    return CacheRule(
        REGISTRY.child("cacheRules", name),
        Upstream.parse(source, allow_wildcard=True),
        TargetPath.parse(target),
        cred,
    )


def spec(name: str, source: str, target: str, credential: str | None = "dockerhub") -> RuleSpec:
    return RuleSpec(
        name, Upstream.parse(source, allow_wildcard=True), TargetPath.parse(target), credential
    )


def test_a_rule_that_fits_is_accepted() -> None:
    existing = [rule("mcr-dotnet", "mcr.microsoft.com/dotnet/*", "dotnet/*", None)]
    assert check_new_rule(spec("hub-nginx", "docker.io/library/nginx", "hub/nginx"), existing) == []


def test_wildcards_may_not_share_a_target_or_contain_each_other() -> None:
    existing = [rule("library-all", "docker.io/library/*", "library/*")]
    same = check_new_rule(spec("library-again", "ghcr.io/library/*", "library/*", None), existing)
    inner = check_new_rule(
        spec("dotnet-all", "mcr.microsoft.com/dotnet/*", "library/dotnet/*", None), existing
    )
    outer = check_new_rule(spec("everything", "mcr.microsoft.com/*", "*", None), existing)
    assert all("overlaps wildcard rule 'library-all'" in r[0] for r in (same, inner, outer))


def test_sibling_wildcards_do_not_overlap() -> None:
    existing = [rule("library-all", "docker.io/library/*", "library/*")]
    assert check_new_rule(spec("libs-all", "docker.io/libs/*", "libs/*"), existing) == []


def test_static_rules_may_sit_under_a_wildcard_but_not_share_a_target() -> None:
    existing = [
        rule("everything", "docker.io/*", "*"),
        rule("hub-nginx", "docker.io/library/nginx", "hub/nginx"),
    ]
    assert (
        check_new_rule(
            spec("dotnet-x", "mcr.microsoft.com/dotnet/sdk", "library/dotnet", None), existing
        )
        == []
    )
    clash = check_new_rule(spec("nginx-two", "docker.io/library/nginx", "hub/nginx"), existing)
    assert clash == ["static rule 'hub-nginx' already targets hub/nginx"]


def test_docker_hub_needs_a_credential_set_and_it_must_exist() -> None:
    reasons = check_new_rule(spec("hub-nginx", "docker.io/library/nginx", "hub/nginx", None), [])
    assert any("Docker Hub" in r for r in reasons)
    reasons = check_new_rule(
        spec("hub-nginx", "docker.io/library/nginx", "hub/nginx", "ghost"),
        [],
        known_credential_sets=["dockerhub"],
    )
    assert any("'ghost' does not exist" in r for r in reasons)


def test_the_rule_limit_is_enforced() -> None:
    existing = [rule(f"rule-{i:04d}", f"ghcr.io/acme/r{i}", f"acme/r{i}", None) for i in range(3)]
    reasons = check_new_rule(spec("one-more", "ghcr.io/acme/x", "acme/x", None), existing, limit=3)
    assert reasons == ["the registry already has 3 cache rules; ACR allows at most 3"]


def test_mixed_wildcard_and_static_and_bad_names_are_refused() -> None:
    reasons = check_new_rule(spec("ab", "ghcr.io/acme/*", "acme/x", None), [])
    assert any("5-50" in r for r in reasons)
    assert any("both be wildcards" in r for r in reasons)


def test_derived_names_are_deterministic_valid_and_unique() -> None:
    target = TargetPath.parse("dockerhub/library/nginx")
    assert derive_rule_name(target) == "dockerhub-library-nginx"
    assert derive_rule_name(TargetPath.parse("ghcr/acme/*")) == "ghcr-acme-all"
    collided = derive_rule_name(target, taken=["dockerhub-library-nginx"])
    assert collided != "dockerhub-library-nginx"
    assert collided == derive_rule_name(target, taken=["DOCKERHUB-library-nginx"])
    short = derive_rule_name(TargetPath.parse("a"))
    long = derive_rule_name(TargetPath.parse("/".join(["component"] * 10)))
    for name in (collided, short, long):
        validate_rule_name(name)
    assert derive_rule_name(TargetPath.parse("a/b")) != derive_rule_name(TargetPath.parse("a-b"))


@given(
    st.lists(st.from_regex(r"[a-z0-9]+([._-][a-z0-9]+)?", fullmatch=True), min_size=1, max_size=8)
)
def test_any_target_gives_a_valid_name(components: list[str]) -> None:
    validate_rule_name(derive_rule_name(TargetPath.parse("/".join(components))))


@given(
    st.lists(st.from_regex(r"[a-z0-9]+([._-][a-z0-9]+)?", fullmatch=True), min_size=1, max_size=8),
    st.integers(0, 3),
)
def test_a_derived_name_is_never_taken_even_when_its_hashed_form_is(
    components: list[str], rounds: int
) -> None:
    target = TargetPath.parse("/".join(components))
    taken: list[str] = []
    for _ in range(rounds + 2):  # the plain name, then each hashed one, is taken in turn
        name = derive_rule_name(target, taken=taken)
        validate_rule_name(name)
        assert name.lower() not in {t.lower() for t in taken}
        taken.append(name.upper())


def test_serving_rule_prefers_static_then_the_deepest_wildcard() -> None:
    everything = rule("everything", "docker.io/*", "*")
    library = rule("library-all", "docker.io/library/*", "library/*")
    nginx = rule("library-nginx", "docker.io/library/nginx", "library/nginx")
    rules = [everything, library, nginx]
    assert find_serving_rule(TargetPath.parse("library/nginx"), rules) == nginx
    assert find_serving_rule(TargetPath.parse("library/redis"), rules) == library
    assert find_serving_rule(TargetPath.parse("other/x"), rules) == everything
    assert find_serving_rule(TargetPath.parse("other/x"), [library, nginx]) is None
