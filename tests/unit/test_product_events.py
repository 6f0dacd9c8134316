"""cachekeeper's own events (shared/domain/product_events.py): deterministic ids, one applied
event per action whatever its phase, batches within Event Grid's 1 MB, and the topic endpoint
setting (shared/domain/event_topics.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.domain.event_topics import parse_topic_endpoint
from shared.domain.plans import ActionKind, Finding, Outcome, OutcomeStatus, Severity
from shared.domain.product_events import (
    ACTION_APPLIED,
    FINDING_RAISED,
    FINDING_RESOLVED,
    ProductEvent,
    action_applied,
    batches,
    finding_raised,
    finding_resolved,
    verification_failed,
)
from shared.errors import ConfigurationError, InvalidInputError
from shared.settings import Settings

AT = datetime(2026, 12, 1, 12, tzinfo=UTC)
SET = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/r/credentialSets/hub"
REGISTRY = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/r"


def outcome(status: OutcomeStatus, *, signal: str = "evt-1", resource: str = SET) -> Outcome:
    return Outcome(signal, resource, status, "moved", AT, ActionKind.UPDATE_CREDENTIAL_SET)


def test_an_action_is_announced_under_one_id_whatever_its_phase() -> None:
    pending = action_applied(outcome(OutcomeStatus.PENDING_VERIFICATION))
    done = action_applied(outcome(OutcomeStatus.SUCCEEDED, resource=SET.upper()))
    assert pending is not None and done is not None
    assert pending.id == done.id and len(pending.id) == 32
    assert pending.type == ACTION_APPLIED and pending.subject == SET
    assert action_applied(outcome(OutcomeStatus.SUCCEEDED, signal="evt-2")).id != pending.id  # type: ignore[union-attr]


@pytest.mark.parametrize("status", [OutcomeStatus.FAILED, OutcomeStatus.NO_CHANGE])
def test_what_was_not_applied_is_not_announced_as_applied(status: OutcomeStatus) -> None:
    assert action_applied(outcome(status)) is None
    closing = Outcome("evt-1", SET, OutcomeStatus.SUCCEEDED, "2 change(s) applied", AT)
    assert action_applied(closing) is None  # a signal's own closing outcome is no action


def test_only_a_failed_action_outcome_is_a_failed_verification() -> None:
    failed = verification_failed(outcome(OutcomeStatus.FAILED))
    assert failed is not None and failed.data["status"] == "failed"
    assert verification_failed(outcome(OutcomeStatus.SUCCEEDED)) is None
    assert verification_failed(Outcome("e", SET, OutcomeStatus.FAILED, "x", AT)) is None


def test_findings_raised_and_resolved_have_distinct_stable_ids() -> None:
    finding = Finding("credential-set-unhealthy", Severity.ERROR, SET, "m" * 10_000, "fix it")
    raised = finding_raised(finding, origin="audit-1", at=AT)
    assert raised.id == finding_raised(finding, origin="audit-1", at=AT).id
    assert raised.type == FINDING_RAISED and len(raised.data["message"]) == 4_096
    resolved = finding_resolved(finding, origin="audit-2", at=AT)
    assert resolved.type == FINDING_RESOLVED and resolved.id != raised.id
    assert finding_raised(finding, origin="audit-2", at=AT).id not in (raised.id, resolved.id)


def test_an_event_reads_back_from_its_json() -> None:
    event = action_applied(outcome(OutcomeStatus.SUCCEEDED))
    assert event is not None
    assert ProductEvent.from_json(event.to_json()) == event
    cloud = event.to_cloudevent()
    assert (cloud["specversion"], cloud["source"], cloud["datacontenttype"]) == (
        "1.0", "/cachekeeper", "application/json")  # fmt: skip
    with pytest.raises(ValueError, match="not a cachekeeper event type"):
        ProductEvent.from_json('{"type": "Microsoft.KeyVault.SecretNewVersionCreated"}')


@given(st.lists(st.integers(min_value=0, max_value=3_000), max_size=40), st.integers(400, 20_000))
def test_batches_keep_order_and_stay_within_the_limit(sizes: list[int], limit: int) -> None:
    events = [ProductEvent(f"{n:032x}", ACTION_APPLIED, SET, AT, {"pad": "x" * size})
              for n, size in enumerate(sizes)]  # fmt: skip
    cut = batches(events, limit=limit)
    flat = [e for batch in cut for e in batch]
    fits = [e for e in events if e.size + 3 <= limit]
    assert flat == fits  # in order, nothing lost but what no batch could carry
    for batch in cut:
        assert batch and 2 + sum(e.size + 1 for e in batch) - 1 <= limit


@pytest.mark.parametrize(
    "text",
    [
        "https://cachekeeper-events.westeurope-1.eventgrid.azure.net/api/events",
        "https://CacheKeeper-Events.WestEurope-1.eventgrid.azure.net/api/events/",
        " https://evgt-abc123.eastus2-1.eventgrid.azure.net ",
    ],
)
def test_a_custom_topic_endpoint_is_accepted_and_normalized(text: str) -> None:
    assert parse_topic_endpoint(text).endswith(".eventgrid.azure.net/api/events")
    assert parse_topic_endpoint(text) == parse_topic_endpoint(text).lower()


@pytest.mark.parametrize(
    "text",
    [
        "http://cachekeeper-events.westeurope-1.eventgrid.azure.net/api/events",
        "https://cachekeeper-events.westeurope.eventgrid.azure.net/api/events",
        "https://cachekeeper-events.westeurope-1.eventgrid.azure.net:8443/api/events",
        "https://cachekeeper-events.westeurope-1.eventgrid.azure.net/api/events?code=x",
        "https://example.com/api/events",
        "https://cachekeeper-events.westeurope-1.eventgrid.azure.net/other",
    ],
)
def test_anything_else_is_not_a_topic_endpoint(text: str) -> None:
    with pytest.raises(InvalidInputError):
        parse_topic_endpoint(text)


def test_the_setting_is_optional_and_a_bad_one_stops_start_up_naming_it() -> None:
    sub = "00000000-0000-0000-0000-000000000001"
    env = {"CACHEKEEPER_MODE": "sandbox", "MANAGED_REGISTRIES": REGISTRY.replace("/s/", f"/{sub}/")}
    assert Settings.from_env(env).events_topic_endpoint is None
    with pytest.raises(ConfigurationError) as bad:
        Settings.from_env({**env, "EVENTS_TOPIC_ENDPOINT": "https://example.com/api/events"})
    assert "EVENTS_TOPIC_ENDPOINT" in str(bad.value)
