"""ACR's ImagePushed / ImageDeleted events: parsing both schemas and the reserved-namespace finding."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.domain.models import CacheRule
from shared.domain.plans import OutcomeStatus
from shared.domain.policies import Policy
from shared.domain.repositories import TargetPath, Upstream
from shared.errors import InvalidEventError
from shared.services import ReactionStatus
from shared.services.reactions import react
from shared.signals import REGISTRY
from shared.signals.envelope import Envelope
from shared.signals.registry import RegistryEventKind, parse_registry_event
from tests.conftest import load_event
from tests.fakes import CONTOSO, World, make_world

SAMPLES = [
    ("containerregistry.ImagePushed.eventgrid.json", RegistryEventKind.IMAGE_PUSHED, "latest"),
    ("containerregistry.ImagePushed.cloudevents.json", RegistryEventKind.IMAGE_PUSHED, "latest"),
    ("containerregistry.ImageDeleted.eventgrid.json", RegistryEventKind.IMAGE_DELETED, None),
    ("containerregistry.ImageDeleted.cloudevents.json", RegistryEventKind.IMAGE_DELETED, None),
]


def sample(name: str, *, repository: str | None = None) -> dict[str, Any]:
    event = copy.deepcopy(load_event(name))
    assert isinstance(event, dict)
    key = "source" if "source" in event else "topic"
    event[key] = str(CONTOSO)
    if repository is not None:
        event["data"]["target"]["repository"] = repository
    return event


@pytest.mark.parametrize(("name", "kind", "tag"), SAMPLES)
def test_the_reference_events_parse_in_both_schemas(
    name: str, kind: RegistryEventKind, tag: str | None
) -> None:
    event = load_event(name)
    assert isinstance(event, dict)
    signal = parse_registry_event(Envelope.from_dict(event))
    assert signal.kind is kind
    assert signal.registry.name == "jolovcr"
    assert signal.repository == TargetPath.parse("samples/nginx")
    assert signal.tag == tag
    assert signal.digest is not None and signal.digest.startswith("sha256:")


def test_the_camel_case_spec_version_sample_is_read_as_a_cloud_event() -> None:
    event = load_event("containerregistry.ImageDeleted.cloudevents.json")
    assert isinstance(event, dict)
    assert "specVersion" in event and "specversion" not in event  # the documented sample's quirk
    envelope = Envelope.from_dict(event)
    assert envelope.type == "Microsoft.ContainerRegistry.ImageDeleted"
    assert envelope.source.endswith("/registries/jolovcr")


def reserved_world() -> World:
    world = make_world()
    world.policies.put_policy(Policy.from_dict({
        "id": "mcr-all", "upstream": "mcr.microsoft.com/*", "action": "allow", "targetTemplate": "mcr/{path}",
    }))  # fmt: skip
    return world


def test_a_push_into_a_reserved_namespace_records_a_finding_once() -> None:
    world = reserved_world()
    event = sample("containerregistry.ImagePushed.cloudevents.json", repository="mcr/dotnet/sdk")
    reaction = react(REGISTRY, event, world.ctx)
    assert reaction.status is ReactionStatus.REPORTED
    (finding,) = [f for _, _, f in world.journal.finding_log]
    assert finding.kind == "push-into-reserved-namespace"
    assert "mcr.microsoft.com/dotnet/sdk" in finding.message
    assert finding.resource == "contosocache/mcr/dotnet/sdk"
    assert react(REGISTRY, event, world.ctx).status is ReactionStatus.DUPLICATE
    assert len(world.journal.finding_log) == 1
    assert world.registry.writes == []


def test_a_push_that_a_cache_rule_serves_is_cached_content_not_a_finding() -> None:
    world = reserved_world()
    rule = CacheRule(CONTOSO.child("cacheRules", "mcr-all"), Upstream.parse("mcr.microsoft.com/*", allow_wildcard=True),
                     TargetPath.parse("mcr/*"))  # fmt: skip
    world.registry.cache_rules[rule.id] = rule
    event = sample("containerregistry.ImagePushed.eventgrid.json", repository="mcr/dotnet/sdk")
    assert react(REGISTRY, event, world.ctx).status is ReactionStatus.NO_CHANGE
    assert world.journal.finding_log == []


@pytest.mark.parametrize(
    ("name", "repository"),
    [
        ("containerregistry.ImagePushed.eventgrid.json", "samples/nginx"),  # nobody reserves it
        ("containerregistry.ImageDeleted.cloudevents.json", "mcr/dotnet/sdk"),  # a delete frees it
    ],
)
def test_other_pushes_and_deletes_change_nothing(name: str, repository: str) -> None:
    world = reserved_world()
    reaction = react(REGISTRY, sample(name, repository=repository), world.ctx)
    assert reaction.status is ReactionStatus.NO_CHANGE
    assert world.journal.finding_log == []
    assert [o.status for o in world.journal.outcome_log] == [OutcomeStatus.NO_CHANGE]


def test_events_from_unmanaged_registries_are_ignored() -> None:
    world = reserved_world()
    event = load_event("containerregistry.ImagePushed.eventgrid.json")
    assert isinstance(event, dict)
    assert react(REGISTRY, event, world.ctx).status is ReactionStatus.IGNORED


@pytest.mark.parametrize(
    "mutate",
    [
        lambda e: e.update(eventType="Microsoft.ContainerRegistry.ChartPushed"),
        lambda e: e.update(
            topic="/subscriptions/x/resourceGroups/y/providers/Microsoft.KeyVault/vaults/z"
        ),
        lambda e: e["data"].pop("target"),
        lambda e: e["data"]["target"].update(repository=["not", "text"]),
        lambda e: e["data"]["target"].update(repository="../etc"),
        lambda e: e.update(data="a string"),
        lambda e: e.pop("id"),
    ],
)
def test_malformed_events_are_rejected_and_recorded_never_raised(mutate: Any) -> None:
    world = reserved_world()
    event = sample("containerregistry.ImagePushed.eventgrid.json")
    mutate(event)
    reaction = react(REGISTRY, event, world.ctx)
    assert reaction.status is ReactionStatus.REJECTED
    assert "malformed registry event" in reaction.reason
    assert [o.status for o in world.journal.outcome_log] == [OutcomeStatus.REJECTED]


def test_parse_refuses_non_registry_sources() -> None:
    envelope = Envelope.from_dict(sample("containerregistry.ImagePushed.eventgrid.json"))
    with pytest.raises(InvalidEventError):
        parse_registry_event(
            Envelope(envelope.id, "not-an-id", envelope.type, "", None, envelope.data)
        )


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(data=_json, kind=st.sampled_from(["eventType", "type", "specVersion"]))
def test_arbitrary_payloads_never_crash(data: Any, kind: str) -> None:
    world = reserved_world()
    event = {"id": "x", kind: "Microsoft.ContainerRegistry.ImagePushed", "topic": str(CONTOSO),
             "source": str(CONTOSO), "data": data}  # fmt: skip
    reaction = react(REGISTRY, event, world.ctx)
    assert reaction.status in (
        ReactionStatus.REJECTED,
        ReactionStatus.NO_CHANGE,
        ReactionStatus.REPORTED,
    )
