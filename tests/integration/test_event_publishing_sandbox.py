"""cachekeeper's own events, end to end in-process: a reaction run through its Event Grid trigger
publishes through azure-eventgrid's EventGridPublisherClient to the sandbox's custom topic, one
event per applied action, also when the first publish fails (the outbox timer publishes what is
left), and every event is valid against its schema in docs/events/."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest
from azure.functions.timer import TimerRequest
from jsonschema import Draft202012Validator

from sandbox import Sandbox, wiring
from shared import bootstrap
from shared.adapters.memory import (
    MemoryFanoutStore,
    MemoryJournal,
    MemoryPolicyStore,
    MemoryReportStore,
)
from shared.domain.ids import ResourceId
from shared.domain.policies import Policy
from shared.domain.repositories import TargetPath
from shared.domain.secrets import SecretRef
from shared.services import Context, ReactionStatus
from shared.services.event_publisher import publish_pending
from shared.services.fanout import audit_work_item, record_poisoned, start_run
from shared.services.reactions import dispatch
from shared.services.reports import audit_now
from shared.services.verification import recheck_due
from shared.signals.pull_failures import PULL_FAILED, PullFailure
from tests.function_index import indexed_functions, invocation
from tests.integration.app_context import REGISTRIES, demo_settings

ROOT = Path(__file__).resolve().parents[2]
TOPIC_HOST = "cachekeeper-events.westeurope-1.eventgrid.azure.net"
ENDPOINT = f"https://{TOPIC_HOST}/api/events"
PASSWORD = SecretRef.parse("https://kv-cache-rbac.vault.azure.net/secrets/dockerhub-password")
USERNAME = SecretRef.parse("https://kv-cache-rbac.vault.azure.net/secrets/dockerhub-username")
SCHEMAS = {
    path.name.removesuffix(".schema.json"): Draft202012Validator(json.loads(path.read_text()))
    for path in (ROOT / "docs" / "events").glob("cachekeeper.*.schema.json")
}


def publishing_context(sandbox: Sandbox, journal: MemoryJournal) -> Context:
    return wiring.sandbox_context(
        sandbox,
        demo_settings(EVENTS_TOPIC_ENDPOINT=ENDPOINT),
        policies=MemoryPolicyStore(),
        journal=journal,
        reports=MemoryReportStore(),
        sleep_scale=0,
    )


@pytest.fixture
def journal() -> MemoryJournal:
    return MemoryJournal()


@pytest.fixture
def ctx(sandbox: Sandbox, journal: MemoryJournal) -> Iterator[Context]:
    context = publishing_context(sandbox, journal)
    bootstrap.configure(context=context)
    yield context
    bootstrap.reset()


def published(sandbox: Sandbox) -> list[dict[str, Any]]:
    events = sandbox.topics.events(TOPIC_HOST)
    for event in events:
        errors = [e.message for e in SCHEMAS[event["type"]].iter_errors(event)]
        assert not errors, (event["type"], errors)
    return events


def rotate_through_the_trigger(sandbox: Sandbox, ctx: Context) -> None:
    """A new dockerhub-password version, delivered to on_keyvault_event as the worker would,
    after both registries' dockerhub sets were pinned to the current one (so both move)."""
    current = sandbox.secret_version("kv-cache-rbac", "dockerhub-password").version
    for registry in REGISTRIES.values():
        ctx.registry.update_credential_set(
            ResourceId.parse(registry).child("credentialSets", "dockerhub"),
            username=USERNAME,
            password=PASSWORD.with_version(current),
        )
    e = sandbox.add_secret_version("kv-cache-rbac", "dockerhub-password")["eventGrid"]
    event = func.EventGridEvent(
        id=e["id"], data=e["data"], topic=e["topic"], subject=e["subject"],
        event_type=e["eventType"], event_time=None, data_version=e["dataVersion"],
    )  # fmt: skip
    trigger = indexed_functions()["on_keyvault_event"].get_user_function()
    trigger(event, invocation("on_keyvault_event"))


def run_timer(name: str) -> None:
    indexed_functions()[name].get_user_function()(TimerRequest(past_due=False), invocation(name))


def applied_actions(journal: MemoryJournal) -> list[tuple[str, str]]:
    return sorted(
        (o.action.value, o.resource.lower()) for o in journal.outcome_log if o.action is not None
    )


def test_each_applied_action_is_published_once_after_the_reaction(
    sandbox: Sandbox, ctx: Context, journal: MemoryJournal
) -> None:
    rotate_through_the_trigger(sandbox, ctx)
    assert len(applied_actions(journal)) == 2  # both registries' dockerhub set moved
    events = published(sandbox)
    assert sorted((e["data"]["action"], e["subject"].lower()) for e in events) == (
        applied_actions(journal)
    )
    assert {e["type"] for e in events} == {"cachekeeper.ActionApplied"}
    assert {e["source"] for e in events} == {"/cachekeeper"}
    assert len({e["id"] for e in events}) == 2
    assert journal.queued_events() == []
    # what reached the topic: one CloudEvents batch, Entra auth (the topic takes no key)
    posts = sandbox.requests_matching("/api/events", host=TOPIC_HOST)
    assert [(p.method, p.status, p.plane) for p in posts] == [("POST", 200, "eventgrid")]
    # a second drain finds nothing: nothing is published twice
    assert publish_pending(ctx) == 0
    assert len(published(sandbox)) == 2


def test_a_failed_publish_never_fails_the_reaction_and_the_timer_publishes_it_once(
    sandbox: Sandbox, ctx: Context, journal: MemoryJournal
) -> None:
    # every attempt the SDK makes (1 + its retries) answers 503: the publish after the reaction
    # fails as a whole
    sandbox.faults.script("/api/events", "503", count=10, host=TOPIC_HOST)
    rotate_through_the_trigger(sandbox, ctx)  # does not raise
    assert len(applied_actions(journal)) == 2
    assert published(sandbox) == []
    assert len(journal.queued_events()) == 2
    assert sandbox.requests_matching("/api/events", host=TOPIC_HOST)[0].fault == "503"
    sandbox.faults.clear()
    run_timer("event_outbox_timer")
    events = published(sandbox)
    assert sorted((e["data"]["action"], e["subject"].lower()) for e in events) == (
        applied_actions(journal)
    )
    assert journal.queued_events() == []
    run_timer("event_outbox_timer")
    assert len(published(sandbox)) == 2


def repair_pull_failure(ctx: Context) -> None:
    """A 401 pull of quay-io's rule in fix mode: two grants and a refresh, pending RBAC."""
    registry = ResourceId.parse(REGISTRIES["contosocache"])
    failure = PullFailure(registry, TargetPath.parse("quay/prometheus/prometheus"), 401)
    assert dispatch(ctx, PULL_FAILED, failure, signal_id="pull-1").status is ReactionStatus.APPLIED


@pytest.mark.parametrize("rbac_delay", [120, 3600], ids=["verified", "window-closes"])
def test_a_change_pending_verification_is_announced_once_and_only_a_failed_verdict_adds_one(
    sandbox: Sandbox, journal: MemoryJournal, rbac_delay: int
) -> None:
    sandbox.clock.advance(0)  # the clock moves only when the test says so
    sandbox.set_timing(rbac_delay_seconds=rbac_delay)
    fix = replace(
        publishing_context(sandbox, journal),
        settings=demo_settings(EVENTS_TOPIC_ENDPOINT=ENDPOINT, REMEDIATION_MODE="fix"),
        policies=MemoryPolicyStore([Policy.from_dict(p) for p in sandbox.scenario.policies]),
    )
    repair_pull_failure(fix)
    publish_pending(fix)
    first = [e for e in published(sandbox) if e["type"] == "cachekeeper.ActionApplied"]
    assert sorted((e["data"]["action"], e["data"]["status"]) for e in first) == [
        ("grant-secret-read", "pending-verification"),
        ("grant-secret-read", "pending-verification"),
        ("refresh-credential-set", "pending-verification"),
    ]
    while journal.pending_verifications():
        sandbox.clock.advance(60)
        recheck_due(fix)
        publish_pending(fix)
    events = published(sandbox)
    applied = [e for e in events if e["type"] == "cachekeeper.ActionApplied"]
    failed = [e for e in events if e["type"] == "cachekeeper.VerificationFailed"]
    assert [e["id"] for e in applied] == [e["id"] for e in first]  # nothing announced twice
    verdicts = [
        o for o in journal.outcome_log if o.action is not None and o.status.value == "failed"
    ]
    assert len(failed) == len(verdicts) == (0 if rbac_delay == 120 else 3)
    assert {e["data"]["status"] for e in failed} <= {"failed"}


def test_audits_publish_findings_raised_and_then_resolved(sandbox: Sandbox, ctx: Context) -> None:
    audit_now(ctx)
    publish_pending(ctx)
    raised = {(e["data"]["kind"], e["subject"].lower()) for e in published(sandbox)}
    assert raised, "the demo scenario has an Unhealthy credential set (contosocache/quay-io)"
    quay = [k for k in raised if k[1].endswith("/credentialsets/quay-io")]
    assert quay
    audit_now(ctx)  # the same state: nothing new to say
    publish_pending(ctx)
    assert len(published(sandbox)) == len(raised)
    # fix what made quay-io unhealthy: grant its identity the secrets it references
    principal = sandbox.principal_of("contosocache", "quay-io")
    sandbox.add_role_assignment(principal, "Key Vault Secrets User", "/subscriptions/"
                                "00000000-0000-0000-0000-000000000001")  # fmt: skip
    sandbox.clock.advance(3600)
    audit_now(ctx)
    publish_pending(ctx)
    resolved = [e for e in published(sandbox) if e["type"] == "cachekeeper.FindingResolved"]
    assert {(e["data"]["kind"], e["subject"].lower()) for e in resolved} >= set(quay)


def _fanned_out_audit(ctx: Context) -> dict[str, Any]:
    report = None
    for message in start_run(ctx):
        report = audit_work_item(ctx, message) or report
    publish_pending(ctx)
    assert report is not None and report["complete"] is True
    return report


def test_fanned_out_audits_publish_findings_raised_and_then_resolved(
    sandbox: Sandbox, ctx: Context
) -> None:
    ctx = replace(ctx, fanout=MemoryFanoutStore())
    _fanned_out_audit(ctx)
    raised = {(e["data"]["kind"], e["subject"].lower()) for e in published(sandbox)}
    quay = [k for k in raised if k[1].endswith("/credentialsets/quay-io")]
    assert quay, "the demo scenario has an Unhealthy credential set (contosocache/quay-io)"
    _fanned_out_audit(ctx)  # the same state: nothing new to say
    assert len(published(sandbox)) == len(raised)
    principal = sandbox.principal_of("contosocache", "quay-io")
    sandbox.add_role_assignment(principal, "Key Vault Secrets User", "/subscriptions/"
                                "00000000-0000-0000-0000-000000000001")  # fmt: skip
    sandbox.clock.advance(3600)
    _fanned_out_audit(ctx)
    resolved = [e for e in published(sandbox) if e["type"] == "cachekeeper.FindingResolved"]
    assert {(e["data"]["kind"], e["subject"].lower()) for e in resolved} >= set(quay)


def test_a_partial_fanned_out_audit_resolves_nothing(sandbox: Sandbox, ctx: Context) -> None:
    ctx = replace(ctx, fanout=MemoryFanoutStore())
    _fanned_out_audit(ctx)
    principal = sandbox.principal_of("contosocache", "quay-io")
    sandbox.add_role_assignment(principal, "Key Vault Secrets User", "/subscriptions/"
                                "00000000-0000-0000-0000-000000000001")  # fmt: skip
    sandbox.clock.advance(3600)
    first, *rest = start_run(ctx)
    for message in rest:
        audit_work_item(ctx, message)
    report = record_poisoned(ctx, first, attempts=5)
    publish_pending(ctx)
    assert report is not None and report["complete"] is False
    assert not [e for e in published(sandbox) if e["type"] == "cachekeeper.FindingResolved"]
