from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.domain.names import validate_registry_name, validate_rule_name
from shared.domain.repositories import TargetPath, Upstream
from shared.errors import InvalidInputError, InvalidNameError, InvalidRepositoryError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("docker.io/library/nginx", "docker.io/library/nginx"),
        ("docker.io/nginx", "docker.io/library/nginx"),
        ("index.docker.io/library/nginx", "docker.io/library/nginx"),
        ("registry-1.docker.io/bitnami/redis", "docker.io/bitnami/redis"),
        ("ghcr.io/acme/tools/cli", "ghcr.io/acme/tools/cli"),
        ("mcr.microsoft.com/dotnet/runtime", "mcr.microsoft.com/dotnet/runtime"),
    ],
)
def test_upstreams_are_normalised(text: str, expected: str) -> None:
    assert str(Upstream.parse(text)) == expected


def test_docker_hub_needs_credentials_flag() -> None:
    assert Upstream.parse("docker.io/library/nginx").is_docker_hub
    assert not Upstream.parse("ghcr.io/acme/tools").is_docker_hub


def test_wildcards_only_where_allowed_and_only_last() -> None:
    assert Upstream.parse("docker.io/library/*", allow_wildcard=True).is_wildcard
    with pytest.raises(InvalidRepositoryError):
        Upstream.parse("docker.io/library/*")
    with pytest.raises(InvalidRepositoryError):
        Upstream.parse("docker.io/*/nginx", allow_wildcard=True)


@pytest.mark.parametrize(
    "text",
    ["nginx", "docker.io", "docker.io/", "Docker.io/library/nginx", "ghcr.io/Acme/x", "ghcr.io/a//b",
     "ghcr.io/a/-b", "https://ghcr.io/a/b", "ghcr.io/a/b:latest", "ghcr.io/a/b@sha256:00", "x" * 300],
)  # fmt: skip
def test_malformed_upstreams_are_refused(text: str) -> None:
    with pytest.raises(InvalidRepositoryError):
        Upstream.parse(text)


def test_target_paths_and_coverage() -> None:
    everything = TargetPath.parse("*")
    library = TargetPath.parse("dockerhub/library/*")
    nginx = TargetPath.parse("dockerhub/library/nginx")
    assert everything.prefix == ()
    assert everything.covers(nginx)
    assert library.covers(nginx)
    assert not library.covers(TargetPath.parse("dockerhub/library"))
    assert nginx.covers(nginx)
    assert not nginx.covers(TargetPath.parse("dockerhub/library/nginx/extra"))
    with pytest.raises(InvalidRepositoryError):
        TargetPath.parse("dockerhub/*", allow_wildcard=False)


@given(st.text(max_size=120))
def test_parsing_arbitrary_text_never_crashes(text: str) -> None:
    for parse in (Upstream.parse, TargetPath.parse):
        try:
            parse(text)
        except InvalidInputError:
            pass


_component = st.from_regex(r"[a-z0-9]+([._-][a-z0-9]+)?", fullmatch=True)


@given(st.lists(_component, min_size=2, max_size=5))
def test_valid_upstreams_round_trip(components: list[str]) -> None:
    text = "ghcr.io/" + "/".join(components)
    assert str(Upstream.parse(text)) == text


@pytest.mark.parametrize("name", ["abcde", "dockerhub-credentials", "A1-b2", "x" * 50])
def test_valid_rule_names(name: str) -> None:
    assert validate_rule_name(name) == name


@pytest.mark.parametrize(
    "name", ["abcd", "x" * 51, "has_underscore", "has space", "dots.in.it", ""]
)
def test_invalid_rule_names(name: str) -> None:
    with pytest.raises(InvalidNameError, match="5 to 50"):
        validate_rule_name(name)


def test_registry_names_are_alphanumeric() -> None:
    assert validate_registry_name("contosocache") == "contosocache"
    with pytest.raises(InvalidNameError):
        validate_registry_name("contoso-cache")


_parts = st.sampled_from(
    ["a", "nginx", "a.b", "a_b", "a__b", "a--b", "a-", "_a", "A", "", "*", "a*", "x.y-z"]
)


@given(parts=st.lists(_parts, min_size=1, max_size=4), wildcard=st.booleans())
def test_paths_are_accepted_exactly_when_every_component_is_valid(
    parts: list[str], wildcard: bool
) -> None:
    import re

    component = re.compile(r"^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$")
    text = "/".join(parts)
    expected = all(
        component.match(p) or (p == "*" and wildcard and i == len(parts) - 1)
        for i, p in enumerate(parts)
    )
    try:
        parsed = TargetPath.parse(text, allow_wildcard=wildcard)
    except InvalidRepositoryError:
        assert not expected
    else:
        assert expected
        assert parsed.path == tuple(parts)
