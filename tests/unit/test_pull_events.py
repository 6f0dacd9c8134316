from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.errors import InvalidEventError, InvalidInputError
from shared.signals.envelope import Envelope
from shared.signals.pull_failures import parse_pull_failed, parse_pull_failure_alert
from tests.conftest import load_event

REGISTRY = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-cache/providers/Microsoft.ContainerRegistry/registries/contosocache"


def alert(**dimensions: str) -> dict[str, Any]:
    payload = copy.deepcopy(load_event("azure-monitor.commonAlertSchema.logAlertsV2.json"))
    assert isinstance(payload, dict)
    payload["data"]["essentials"]["alertTargetIDs"] = [REGISTRY.lower()]
    criterion = payload["data"]["alertContext"]["condition"]["allOf"][0]
    criterion["dimensions"] = [{"name": k, "value": v} for k, v in dimensions.items()]
    return payload


def test_the_reference_alert_parses_and_holds_no_pull_failure() -> None:
    parsed = parse_pull_failure_alert(
        load_event("azure-monitor.commonAlertSchema.logAlertsV2.json")
    )
    assert parsed.fired
    assert parsed.failures == ()  # a VM heartbeat alert: no Repository dimension


def test_an_alert_split_by_repository_gives_one_failure_per_repository() -> None:
    parsed = parse_pull_failure_alert(
        alert(Repository="dockerhub/library/nginx", ResultDescription="401", Tag="1.27")
    )
    (failure,) = parsed.failures
    assert str(failure.registry) == REGISTRY.lower()
    assert str(failure.repository) == "dockerhub/library/nginx"
    assert (failure.status, failure.tag) == (401, "1.27")
    assert failure.time is not None and failure.time.year == 2020


@pytest.mark.parametrize(
    ("dimensions", "status"),
    [
        ({"Status": "404"}, 404),
        ({"Status": "unknown"}, None),
        ({"ResultDescription": "401 Unauthorized"}, 401),
        ({"ResultDescription": "NotFound"}, None),
        ({"Status": "403", "ResultDescription": "ignored"}, 403),
    ],
)
def test_the_alert_s_status_is_read_from_status_then_result_description(
    dimensions: dict[str, str], status: int | None
) -> None:
    (failure,) = parse_pull_failure_alert(
        alert(Repository="dockerhub/library/nginx", **dimensions)
    ).failures
    assert failure.status == status


def test_a_resolved_alert_carries_no_failures() -> None:
    payload = alert(Repository="dockerhub/library/nginx")
    payload["data"]["essentials"]["monitorCondition"] = "Resolved"
    assert parse_pull_failure_alert(payload).failures == ()
    assert not parse_pull_failure_alert(payload).fired


@pytest.mark.parametrize(
    "mutate",
    [
        lambda p: p.pop("schemaId"),
        lambda p: p["data"].pop("essentials"),
        lambda p: p["data"]["essentials"].update(monitorCondition="Maybe"),
        lambda p: p["data"]["essentials"].update(alertTargetIDs=[]),
        lambda p: p["data"]["alertContext"]["condition"]["allOf"][0].update(
            dimensions=[{"name": "Repository", "value": "Not Valid"}]
        ),
    ],
)
def test_malformed_alerts_are_typed_errors(mutate: Any) -> None:
    payload = alert(Repository="dockerhub/library/nginx")
    mutate(payload)
    with pytest.raises(InvalidEventError):
        parse_pull_failure_alert(payload)


def pull_failed(**data: Any) -> dict[str, Any]:
    body = {
        "registry": REGISTRY,
        "repository": "dockerhub/library/nginx",
        "tag": "latest",
        "status": 401,
    }
    body.update(data)
    return {
        "specversion": "1.0",
        "id": "pf-1",
        "source": "/cachekeeper/test",
        "type": "cachekeeper.PullFailed",
        "time": "2026-11-23T10:00:00Z",
        "data": body,
    }


def test_pull_failed_cloud_events_parse() -> None:
    failure = parse_pull_failed(Envelope.from_dict(pull_failed(status="404")))
    assert failure.status == 404
    assert failure.registry.name == "contosocache"
    assert failure.time is not None


@pytest.mark.parametrize(
    "data",
    [
        {"registry": "contosocache"},
        {"repository": "UPPER/../x"},
        {"status": "abc"},
        {"status": 99},
        {"tag": 5},
    ],
)
def test_pull_failed_with_bad_data_is_refused(data: dict[str, Any]) -> None:
    with pytest.raises(InvalidEventError):
        parse_pull_failed(Envelope.from_dict(pull_failed(**data)))


_json: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=15), c, max_size=4),
    max_leaves=15,
)


@given(_json)
def test_arbitrary_alert_payloads_only_raise_typed_errors(payload: Any) -> None:
    try:
        parse_pull_failure_alert(payload)
    except InvalidInputError:
        pass


@given(st.dictionaries(st.sampled_from(["registry", "repository", "tag", "status", "time"]), _json))
def test_arbitrary_pull_failed_data_only_raises_typed_errors(data: dict[str, Any]) -> None:
    try:
        parse_pull_failed(
            Envelope.from_dict(
                {
                    "id": "x",
                    "specversion": "1.0",
                    "type": "cachekeeper.PullFailed",
                    "source": "s",
                    "data": data,
                }
            )
        )
    except InvalidInputError:
        pass


def test_pull_failed_names_the_puller_when_the_event_says_who_pulled() -> None:
    from shared.domain.pullers import Puller, PullerKind

    identity = {"kind": "entra", "id": "5B8E1C2A-7D3F-4E9A-B6C1-2F0A9D8E7C6B"}
    failure = parse_pull_failed(Envelope.from_dict(pull_failed(status=401, identity=identity)))
    assert failure.puller == Puller(PullerKind.ENTRA, "5b8e1c2a-7d3f-4e9a-b6c1-2f0a9d8e7c6b")
    assert parse_pull_failed(Envelope.from_dict(pull_failed(status=401))).puller is None
    token = {"Kind": "token", "ID": "ci-token"}
    assert parse_pull_failed(Envelope.from_dict(pull_failed(identity=token))).puller == Puller(
        PullerKind.TOKEN, "ci-token"
    )


@pytest.mark.parametrize(
    "identity",
    ["5b8e1c2a", {"kind": "root", "id": "x"}, {"kind": "token"}, {"kind": "token", "id": ""}],
)
def test_pull_failed_with_a_bad_identity_is_refused(identity: Any) -> None:
    with pytest.raises(InvalidEventError):
        parse_pull_failed(Envelope.from_dict(pull_failed(identity=identity)))
