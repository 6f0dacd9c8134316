"""The rotation use case over the in-memory fakes: scope, idempotency, plan, apply, record."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from shared.domain.models import CredentialHealth, CredentialSet, HealthStatus, SecretVersion
from shared.domain.plans import OutcomeStatus
from shared.domain.secrets import SecretRef
from shared.errors import ConcurrencyError, UpstreamUnavailableError
from shared.services import ReactionStatus, sync_credential_set
from shared.services.reactions import IGNORED_SIGNALS, react
from shared.signals import KEY_VAULT
from tests.fakes import CONTOSO, FABRIKAM, NOW, OTHER_VAULT, VAULT, World, make_world

TOKEN = SecretRef.parse("https://kv-cache.vault.azure.net/secrets/hub-token")
USER = SecretRef.parse("https://kv-cache.vault.azure.net/secrets/hub-user")


def seed(world: World) -> tuple[SecretVersion, SecretVersion]:
    v1 = world.secrets.add_version(TOKEN, created=NOW - timedelta(days=30))
    v2 = world.secrets.add_version(TOKEN, created=NOW - timedelta(hours=1))
    world.secrets.add_version(USER, created=NOW - timedelta(days=60))
    for registry in (CONTOSO, FABRIKAM):
        world.registry.add_credential_set(
            CredentialSet(
                registry.child("credentialSets", "dockerhub"),
                "docker.io",
                USER,
                v1.ref,
                "p-1",
                CredentialHealth(HealthStatus.HEALTHY),
            )
        )
    return v1, v2


def event(
    version: SecretVersion,
    *,
    event_id: str = "evt-1",
    topic: str = str(VAULT),
    kind: str = "SecretNewVersionCreated",
) -> dict[str, Any]:
    return {
        "id": event_id,
        "topic": topic,
        "subject": version.ref.name,
        "eventType": f"Microsoft.KeyVault.{kind}",
        "eventTime": NOW.isoformat(),
        "data": {
            "Id": str(version.ref),
            "VaultName": "kv-cache",
            "ObjectType": "Secret",
            "ObjectName": version.ref.name,
            "Version": version.version,
            "NBF": None,
            "EXP": None,
        },
        "dataVersion": "1",
    }


def test_rotation_updates_every_registry_and_records_outcomes() -> None:
    world = make_world()
    _, v2 = seed(world)
    reaction = react(KEY_VAULT, event(v2), world.ctx)
    assert reaction.status is ReactionStatus.APPLIED
    for registry in (CONTOSO, FABRIKAM):
        assert (
            world.registry.get_credential_set(
                registry.child("credentialSets", "dockerhub")
            ).password
            == v2.ref
        )
    per_set = [o for o in world.journal.outcome_log if o.action is not None]
    assert {o.resource for o in per_set} == {
        str(r.child("credentialSets", "dockerhub")) for r in (CONTOSO, FABRIKAM)
    }
    assert all(o.status is OutcomeStatus.SUCCEEDED and o.health == "Healthy" for o in per_set)
    terminal = [o for o in world.journal.outcome_log if o.action is None]
    assert len(terminal) == 1 and terminal[0].status is OutcomeStatus.SUCCEEDED


def test_replays_make_no_writes() -> None:
    world = make_world()
    _, v2 = seed(world)
    react(KEY_VAULT, event(v2), world.ctx)
    writes = list(world.registry.writes)
    for _ in range(3):
        assert react(KEY_VAULT, event(v2), world.ctx).status is ReactionStatus.DUPLICATE
    # a different delivery id for the same rotation plans nothing either: state is already right
    assert (
        react(KEY_VAULT, event(v2, event_id="evt-2"), world.ctx).status is ReactionStatus.NO_CHANGE
    )
    assert world.registry.writes == writes


def test_out_of_order_events_never_downgrade() -> None:
    world = make_world()
    _, v2 = seed(world)
    v3 = world.secrets.add_version(TOKEN, created=NOW - timedelta(minutes=5))
    react(KEY_VAULT, event(v3, event_id="evt-3"), world.ctx)
    react(KEY_VAULT, event(v2, event_id="evt-2"), world.ctx)
    assert (
        world.registry.get_credential_set(CONTOSO.child("credentialSets", "dockerhub")).password
        == v3.ref
    )


def test_events_outside_the_allow_list_change_nothing_and_are_counted() -> None:
    world = make_world()
    _, v2 = seed(world)
    before = IGNORED_SIGNALS["vault-not-allowed"]
    reaction = react(KEY_VAULT, event(v2, topic=str(OTHER_VAULT)), world.ctx)
    assert reaction.status is ReactionStatus.IGNORED
    assert IGNORED_SIGNALS["vault-not-allowed"] == before + 1
    assert world.registry.writes == []
    assert world.journal.outcome_log[-1].status is OutcomeStatus.IGNORED


def test_malformed_events_are_recorded_and_acknowledged() -> None:
    world = make_world()
    _, v2 = seed(world)
    broken = event(v2)
    broken["data"]["Id"] = "https://example.com/not-a-vault"
    reaction = react(KEY_VAULT, broken, world.ctx)
    assert reaction.status is ReactionStatus.REJECTED
    assert world.journal.outcome_log[-1].status is OutcomeStatus.REJECTED
    assert world.registry.writes == []


def test_transient_failures_release_the_claim_so_redelivery_works() -> None:
    world = make_world()
    _, v2 = seed(world)

    class Flaky:
        def __init__(self) -> None:
            self.fail = True

        def list_versions(self, secret: SecretRef) -> list[SecretVersion]:
            if self.fail:
                self.fail = False
                raise UpstreamUnavailableError("Key Vault 503")
            return world.secrets.list_versions(secret)

    from dataclasses import replace

    ctx = replace(world.ctx, secrets=Flaky())
    with pytest.raises(UpstreamUnavailableError):
        react(KEY_VAULT, event(v2), ctx)
    assert react(KEY_VAULT, event(v2), ctx).status is ReactionStatus.APPLIED


def test_a_claim_held_by_another_worker_asks_for_redelivery() -> None:
    world = make_world()
    _, v2 = seed(world)
    world.journal.claim("keyvault:evt-1", "whatever", now=NOW, ttl=timedelta(minutes=10))
    assert world.journal.records["keyvault:evt-1"].payload_hash == "whatever"
    world.journal.records.clear()
    world.journal.claim(
        "keyvault:evt-1",
        __import__("shared.signals.envelope", fromlist=["Envelope"])
        .Envelope.from_dict(event(v2))
        .payload_hash,
        now=NOW,
        ttl=timedelta(minutes=10),
    )
    with pytest.raises(ConcurrencyError):
        react(KEY_VAULT, event(v2), world.ctx)


def test_expiry_events_report_what_breaks_and_when() -> None:
    world = make_world()
    v1, _ = seed(world)
    from shared.domain.cache_rules import RuleSpec
    from shared.domain.repositories import TargetPath, Upstream

    world.registry.create_cache_rule(
        CONTOSO,
        RuleSpec(
            "hub-nginx",
            Upstream.parse("docker.io/library/nginx"),
            TargetPath.parse("hub/nginx"),
            "dockerhub",
        ),
    )
    near = event(v1, event_id="evt-near", kind="SecretNearExpiry")
    near["data"]["EXP"] = str(int((NOW + timedelta(days=20)).timestamp()))
    reaction = react(KEY_VAULT, near, world.ctx)
    assert reaction.status is ReactionStatus.APPLIED  # the pinned v1 also moves to the newer v2
    (finding,) = [f for _, _, f in world.journal.finding_log if f.kind == "secret-near-expiry"]
    assert len(finding.evidence["credentialSets"]) == 2
    assert finding.evidence["cacheRules"] == [str(CONTOSO.child("cacheRules", "hub-nginx"))]
    assert finding.evidence["breaksAt"].startswith("2026-12-13")


def test_sync_plans_in_dry_run_and_applies_otherwise() -> None:
    world = make_world()
    _, v2 = seed(world)
    planned = sync_credential_set(world.ctx, "contosocache", "dockerhub", dry_run=True)
    assert planned.status is ReactionStatus.PLANNED and len(planned.plan.actions) == 1  # type: ignore[union-attr]
    assert world.registry.writes == []
    applied = sync_credential_set(world.ctx, "ContosoCache", "dockerhub")
    assert applied.status is ReactionStatus.APPLIED
    assert (
        world.registry.get_credential_set(CONTOSO.child("credentialSets", "dockerhub")).password
        == v2.ref
    )
    assert (
        sync_credential_set(world.ctx, "contosocache", "dockerhub").status
        is ReactionStatus.NO_CHANGE
    )
