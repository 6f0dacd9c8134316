from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.domain.policies import Policy, PolicyAction, PolicyIndex, decide
from shared.domain.repositories import Upstream
from shared.errors import InvalidInputError, InvalidPolicyError


def row(**fields: Any) -> Policy:
    base: dict[str, Any] = {
        "id": "p1",
        "upstream": "ghcr.io/acme/*",
        "action": "allow",
        "targetTemplate": "ghcr/acme/{path}",
    }
    base.update(fields)
    return Policy.from_dict(base)


ROWS = [
    row(
        id="hub-library",
        upstream="docker.io/library/*",
        targetTemplate="dockerhub/library/{path}",
        credentialSet="dockerhub",
    ),
    row(id="hub-others", upstream="docker.io/*", action="deny"),
    row(
        id="acme",
        upstream="ghcr.io/acme/*",
        ruleKind="wildcard",
        targetTemplate="ghcr/acme/{path}",
        credentialSet="ghcr-acme",
    ),
    row(id="acme-secret", upstream="ghcr.io/acme/secret-tool", action="deny"),
    row(id="mcr", upstream="mcr.microsoft.com/*", targetTemplate="mcr/{repository}"),
]


def decision(upstream: str, registry: str = "contosocache", rows: list[Policy] = ROWS) -> Any:
    return decide(Upstream.parse(upstream), rows, registry=registry)


def test_most_specific_pattern_wins() -> None:
    allowed = decision("docker.io/library/nginx")
    assert allowed.allowed and allowed.policy.id == "hub-library"
    denied = decision("docker.io/bitnami/redis")
    assert not denied.allowed and denied.policy.id == "hub-others"
    assert "denies" in denied.reason
    exact = decision("ghcr.io/acme/secret-tool")
    assert not exact.allowed and exact.policy.id == "acme-secret"


def test_static_rows_render_the_target_template() -> None:
    result = decision("docker.io/library/nginx")
    assert str(result.rule.source) == "docker.io/library/nginx"
    assert str(result.rule.target) == "dockerhub/library/nginx"
    assert result.rule.credential_set == "dockerhub"
    assert result.rule.name == "dockerhub-library-nginx"
    nested = decision("mcr.microsoft.com/dotnet/runtime")
    assert str(nested.rule.target) == "mcr/dotnet/runtime"


def test_wildcard_rows_produce_wildcard_rules() -> None:
    result = decision("ghcr.io/acme/tools/cli")
    assert result.allowed
    assert str(result.rule.source) == "ghcr.io/acme/*"
    assert str(result.rule.target) == "ghcr/acme/*"
    assert result.rule.is_wildcard


def test_no_matching_row_means_denied_with_a_reason() -> None:
    result = decision("quay.io/team/app")
    assert not result.allowed and result.policy is None
    assert "no policy row allows quay.io/team/app" in result.reason


def test_deny_beats_allow_at_equal_specificity_and_priority_breaks_ties() -> None:
    allow = row(id="a-allow", upstream="ghcr.io/x/*", targetTemplate="x/{path}", priority=1)
    deny = row(id="b-deny", upstream="ghcr.io/x/*", action="deny", priority=50)
    assert not decision("ghcr.io/x/app", rows=[allow, deny]).allowed
    first = row(id="z-first", upstream="ghcr.io/x/*", targetTemplate="first/{path}", priority=1)
    second = row(id="a-second", upstream="ghcr.io/x/*", targetTemplate="second/{path}", priority=2)
    assert decision("ghcr.io/x/app", rows=[second, first]).policy.id == "z-first"


def test_registry_specific_rows_beat_global_ones_and_others_do_not_apply() -> None:
    everywhere = row(id="all", upstream="ghcr.io/x/*", targetTemplate="x/{path}")
    only_here = row(id="here", upstream="ghcr.io/x/*", action="deny", registry="fabrikamcache")
    assert not decision(
        "ghcr.io/x/app", registry="fabrikamcache", rows=[everywhere, only_here]
    ).allowed
    assert decision("ghcr.io/x/app", registry="contosocache", rows=[everywhere, only_here]).allowed


def test_disabled_rows_are_ignored() -> None:
    off = row(id="off", upstream="ghcr.io/x/*", targetTemplate="x/{path}", enabled=False)
    assert not decision("ghcr.io/x/app", rows=[off]).allowed


def test_derived_rule_name_avoids_taken_names() -> None:
    result = decide(
        Upstream.parse("docker.io/library/nginx"),
        ROWS,
        registry="r",
        taken_names=["dockerhub-library-nginx"],
    )
    assert result.rule.name.startswith("dockerhub-library-nginx-")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"upstream": "docker.io/library/*", "credentialSet": None}, "Docker Hub"),
        ({"targetTemplate": None}, "needs a targetTemplate"),
        ({"targetTemplate": "x/{tag}"}, "unknown placeholder {tag}"),
        ({"targetTemplate": "X/{path}"}, "does not give a valid repository"),
        ({"ruleKind": "wildcard", "upstream": "ghcr.io/acme/tool"}, "pattern ending in '/*'"),
        ({"ruleKind": "wildcard", "targetTemplate": "{path}/x"}, "must end with {path}"),
        ({"action": "maybe"}, "action must be allow or deny"),
        ({"upstream": "not a repo"}, "bad upstream pattern"),
        ({"priority": -1}, "priority"),
        ({"priority": True}, "priority"),
        ({"enabled": "yes"}, "enabled"),
        ({"credentialSet": "x"}, "credential set name"),
        ({"id": "has space"}, "id must be"),
        ({"registry": "my-registry"}, "registry must be"),
        ({"colour": "blue"}, "unknown policy field"),
        ({"changedAt": "yesterday"}, "ISO 8601"),
    ],
)
def test_invalid_rows_get_a_clear_error(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(
        InvalidPolicyError,
        match=message.replace("{", r"\{")
        .replace("}", r"\}")
        .replace("*", r"\*")
        .replace("(", r"\("),
    ):
        row(**fields)


def test_rows_round_trip_through_their_json_form() -> None:
    for policy in ROWS:
        assert Policy.from_dict(policy.to_dict()) == policy
    assert ROWS[1].action is PolicyAction.DENY


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=10,
)


@given(
    st.dictionaries(
        st.sampled_from(
            [
                "id",
                "upstream",
                "action",
                "registry",
                "targetTemplate",
                "ruleKind",
                "credentialSet",
                "priority",
                "enabled",
            ]
        ),
        _json,
    )
)
def test_arbitrary_rows_only_raise_typed_errors(data: dict[str, Any]) -> None:
    try:
        Policy.from_dict(data)
    except InvalidInputError:
        pass


# The index must pick exactly what a scan of every row picks (the audit relies on it).
_segments = st.sampled_from(["acme", "tools", "cli", "library", "nginx", "x"])
_patterns = st.builds(
    lambda host, path, wildcard: f"{host}/{'/'.join([*path, '*'] if wildcard else path)}",
    st.sampled_from(["ghcr.io", "docker.io", "quay.io"]),
    st.lists(_segments, min_size=1, max_size=3),
    st.booleans(),
)
_rows = st.lists(
    st.builds(
        lambda pattern, action, registry, priority, enabled: {
            "upstream": pattern,
            "action": action,
            "registry": registry,
            "priority": priority,
            "enabled": enabled,
            "targetTemplate": "t/{path}" if pattern.endswith("*") else "t/{name}",
            "credentialSet": "creds-upstream",
        },
        _patterns,
        st.sampled_from(["allow", "deny"]),
        st.sampled_from(["*", "contosocache", "othercache"]),
        st.integers(min_value=0, max_value=3),
        st.booleans(),
    ),
    max_size=12,
)


@given(rows=_rows, upstream=_patterns.filter(lambda t: not t.endswith("*")))
def test_the_index_picks_the_row_a_scan_of_every_row_picks(
    rows: list[dict[str, Any]], upstream: str
) -> None:
    policies = [Policy.from_dict({"id": f"r{i}", **r}) for i, r in enumerate(rows)]
    target = Upstream.parse(upstream)
    scanned = sorted((p for p in policies if p.matches(target, "contosocache")), key=Policy.rank)
    index = PolicyIndex(policies)
    assert index.matching(target, "contosocache") == scanned
    assert index.winner(target, "contosocache") == (scanned[0] if scanned else None)
    assert decide(target, index, registry="contosocache") == decide(
        target, policies, registry="contosocache"
    )


@given(
    rows=_rows,
    queries=st.lists(
        st.tuples(
            _patterns.filter(lambda t: not t.endswith("*")),
            st.sampled_from(["contosocache", "ContosoCache", "othercache", "thirdcache"]),
        ),
        max_size=8,
    ),
)
def test_one_index_answers_every_registry_as_a_scan_does(
    rows: list[dict[str, Any]], queries: list[tuple[str, str]]
) -> None:
    """The audit asks one index about every registry's rules: its answers must stay right when
    the same upstream comes back for another registry (rows may name registries)."""
    policies = [Policy.from_dict({"id": f"r{i}", **r}) for i, r in enumerate(rows)]
    index = PolicyIndex(policies)
    for upstream, registry in queries * 2:
        target = Upstream.parse(upstream)
        scanned = sorted((p for p in policies if p.matches(target, registry)), key=Policy.rank)
        assert index.winner(target, registry) == (scanned[0] if scanned else None)
