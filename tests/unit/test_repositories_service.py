"""Repository requests over the in-memory fakes: the edges the sandbox tests do not reach."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from shared.domain.ids import ResourceId
from shared.domain.models import CacheRule
from shared.domain.policies import Policy
from shared.domain.repositories import TargetPath, Upstream
from shared.errors import AccessDeniedError, InvalidInputError, NotFoundError
from shared.services import ReactionStatus
from shared.services.repositories import parse_repository_request, request_repository
from tests.fakes import CONTOSO, World, make_world

MCR = {
    "id": "mcr",
    "upstream": "mcr.microsoft.com/*",
    "action": "allow",
    "targetTemplate": "mcr/{path}",
}


def world_with(*rows: dict[str, Any]) -> World:
    world = make_world()
    for row in rows:
        world.policies.put_policy(Policy.from_dict(row))
    return world


def ask(world: World, upstream: str, **kwargs: Any) -> Any:
    return request_repository(world.ctx, CONTOSO, Upstream.parse(upstream), signal_id="s", **kwargs)


def test_a_wildcard_mapping_another_upstream_does_not_count_as_serving() -> None:
    world = world_with(MCR)
    other = CacheRule(CONTOSO.child("cacheRules", "mcr-other"),
                      Upstream.parse("ghcr.io/mirror/*", allow_wildcard=True), TargetPath.parse("mcr/*"))  # fmt: skip
    world.registry.cache_rules[other.id] = other
    reaction = ask(world, "mcr.microsoft.com/dotnet/sdk")
    assert reaction.status is ReactionStatus.APPLIED  # a static rule may sit under a wildcard
    assert world.registry.writes == [
        ("create-cache-rule", str(CONTOSO.child("cacheRules", "mcr-dotnet-sdk")))
    ]


def test_without_data_plane_access_acr_s_own_refusal_is_the_reason() -> None:
    world = world_with(MCR)
    world.registry.repositories[CONTOSO].add(TargetPath.parse("mcr/dotnet/sdk"))

    class NoDataPlane:
        def __getattr__(self, name: str) -> Any:
            return getattr(world.registry, name)

        def repository_exists(self, registry: Any, repository: Any) -> bool:
            raise AccessDeniedError("the app's identity cannot read repositories")

    ctx = replace(world.ctx, registry=NoDataPlane())
    dry = request_repository(
        ctx, CONTOSO, Upstream.parse("mcr.microsoft.com/dotnet/sdk"), dry_run=True, signal_id="s"
    )
    assert dry.status is ReactionStatus.PLANNED  # the check could not run
    real = request_repository(
        ctx, CONTOSO, Upstream.parse("mcr.microsoft.com/dotnet/sdk"), signal_id="s"
    )
    assert real.status is ReactionStatus.REJECTED
    assert "ACR refused rule mcr-dotnet-sdk" in real.reason and "already exists" in real.reason
    assert world.registry.writes == []


def test_a_dry_run_of_an_unmanaged_registry_records_nothing() -> None:
    world = world_with(MCR)
    elsewhere = ResourceId.parse(str(CONTOSO).replace("contosocache", "elsewhere1"))
    reaction = request_repository(
        world.ctx, elsewhere, Upstream.parse("mcr.microsoft.com/x"), dry_run=True, signal_id="s"
    )
    assert reaction.status is ReactionStatus.IGNORED
    assert world.journal.outcome_log == []


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ([], InvalidInputError),
        ({"upstream": "mcr.microsoft.com/x"}, InvalidInputError),  # two registries are managed
        ({"upstream": "mcr.microsoft.com/x", "registry": 5}, InvalidInputError),
        ({"upstream": 5, "registry": "contosocache"}, InvalidInputError),
        ({"target": "mcr/*", "registry": "contosocache"}, InvalidInputError),
        (
            {"upstream": "mcr.microsoft.com/x", "registry": "contosocache", "extra": 1},
            InvalidInputError,
        ),
        ({"upstream": "mcr.microsoft.com/x", "registry": "nowhere1"}, NotFoundError),
    ],
)
def test_bad_requests_are_typed_errors(body: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_repository_request(make_world().ctx, body)


def test_requests_name_a_registry_by_name_or_id() -> None:
    ctx = make_world().ctx
    by_name = parse_repository_request(
        ctx, {"upstream": "docker.io/nginx", "registry": "ContosoCache"}
    )
    by_id = parse_repository_request(
        ctx, {"target": "dockerhub/library/nginx", "registry": str(CONTOSO)}
    )
    assert by_name.registry == by_id.registry == CONTOSO
    assert by_name.upstream == Upstream.parse("docker.io/library/nginx")
