"""The published schemas of our custom CloudEvents match what the parsers accept."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from shared.services import ReactionStatus
from shared.services.reactions import react
from shared.signals import REPOSITORY_REQUESTS
from shared.signals.envelope import Envelope
from shared.signals.pull_failures import parse_pull_failed
from tests.conftest import ROOT
from tests.fakes import CONTOSO, make_world

DOCS = ROOT / "docs" / "events"
TYPES = ["cachekeeper.PullFailed", "cachekeeper.RepositoryRequested"]


def schema(kind: str) -> Draft202012Validator:
    document = json.loads((DOCS / f"{kind}.schema.json").read_text())
    Draft202012Validator.check_schema(document)
    return Draft202012Validator(document, format_checker=Draft202012Validator.FORMAT_CHECKER)


def example(kind: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DOCS / f"{kind}.example.json").read_text())
    return data


@pytest.mark.parametrize("kind", TYPES)
def test_each_example_is_valid_against_its_schema(kind: str) -> None:
    schema(kind).validate(example(kind))


def test_the_pull_failed_example_parses() -> None:
    failure = parse_pull_failed(Envelope.from_dict(example("cachekeeper.PullFailed")))
    assert (failure.registry.name, str(failure.repository), failure.status) == (
        "contosocache", "dockerhub/library/busybox", 404,
    )  # fmt: skip
    assert failure.puller is not None and failure.puller.kind.value == "entra"  # who pulled


def test_the_repository_requested_example_is_handled() -> None:
    world = make_world()
    event = example("cachekeeper.RepositoryRequested")
    assert event["data"]["registry"] == str(CONTOSO)
    reaction = react(REPOSITORY_REQUESTS, event, world.ctx)
    assert reaction.status is ReactionStatus.REJECTED  # an empty policy table allows nothing
    assert "no policy row allows docker.io/library/busybox" in reaction.reason


@pytest.mark.parametrize(
    "change",
    [
        {"upstream": None},  # neither upstream nor target
        {"target": "dockerhub/library/busybox"},  # both
        {"registry": "contosocache"},  # a name, not a resource id
    ],
)
def test_what_the_schema_refuses_the_handler_refuses(change: dict[str, Any]) -> None:
    event = copy.deepcopy(example("cachekeeper.RepositoryRequested"))
    event["data"].update(change)
    event["data"] = {k: v for k, v in event["data"].items() if v is not None}
    assert not schema("cachekeeper.RepositoryRequested").is_valid(event)
    reaction = react(REPOSITORY_REQUESTS, event, make_world().ctx)
    assert reaction.status is ReactionStatus.REJECTED
    assert "malformed RepositoryRequested event" in reaction.reason


@pytest.mark.parametrize(
    "change",
    [
        {"repository": "team-a//api"},
        {"registry": "/subscriptions/x/resourceGroups/y"},
        {"status": 99},
    ],
)
def test_what_the_pull_failed_schema_refuses_the_parser_refuses(change: dict[str, Any]) -> None:
    from shared.errors import InvalidEventError

    event = copy.deepcopy(example("cachekeeper.PullFailed"))
    event["data"].update(change)
    assert not schema("cachekeeper.PullFailed").is_valid(event)
    with pytest.raises(InvalidEventError):
        parse_pull_failed(Envelope.from_dict(event))
