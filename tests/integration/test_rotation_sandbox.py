"""Secret rotation through the real SDK clients against the sandbox (issue: secret rotation)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sandbox import Sandbox
from shared.adapters.memory import MemoryJournal
from shared.domain.ids import ResourceId
from shared.domain.plans import OutcomeStatus
from shared.domain.secrets import SecretRef
from shared.services import Context, ReactionStatus
from shared.services.reactions import react
from shared.signals import KEY_VAULT
from tests.conftest import load_event
from tests.integration.app_context import REGISTRIES, SUB, sandbox_context

PASSWORD = SecretRef.parse("https://kv-cache-rbac.vault.azure.net/secrets/dockerhub-password")
USERNAME = SecretRef.parse("https://kv-cache-rbac.vault.azure.net/secrets/dockerhub-username")
SETS = [ResourceId.parse(r).child("credentialSets", "dockerhub") for r in REGISTRIES.values()]


@pytest.fixture
def ctx(sandbox: Sandbox) -> Context:
    return sandbox_context(sandbox, journal=MemoryJournal())


def pin_to_current(sandbox: Sandbox, ctx: Context) -> str:
    """Pin both dockerhub credential sets' password to the current version (versioned refs)."""
    current = sandbox.secret_version("kv-cache-rbac", "dockerhub-password").version
    for credential_set in SETS:
        ctx.registry.update_credential_set(
            credential_set, username=USERNAME, password=PASSWORD.with_version(current)
        )
    sandbox.log.clear()
    return current


def writes(sandbox: Sandbox) -> int:
    return len(sandbox.log.writes())


def test_rotation_moves_both_registries_and_reads_back_healthy(
    sandbox: Sandbox, ctx: Context
) -> None:
    pin_to_current(sandbox, ctx)
    rotated = sandbox.add_secret_version(
        "kv-cache-rbac", "dockerhub-password", expires=sandbox.clock.now() + timedelta(days=90)
    )
    reaction = react(KEY_VAULT, rotated["eventGrid"], ctx)
    assert reaction.status is ReactionStatus.APPLIED
    for credential_set in SETS:
        current = ctx.registry.get_credential_set(credential_set)
        assert current.password.version == rotated["version"]
        assert current.health.is_healthy
    journal = ctx.journal
    assert isinstance(journal, MemoryJournal)
    moved = [o for o in journal.outcome_log if o.action is not None]
    assert sorted(o.resource.lower() for o in moved) == sorted(str(s).lower() for s in SETS)
    assert all(o.status is OutcomeStatus.SUCCEEDED and o.health == "Healthy" for o in moved)


def test_replaying_an_event_three_times_makes_no_writes(sandbox: Sandbox, ctx: Context) -> None:
    pin_to_current(sandbox, ctx)
    rotated = sandbox.add_secret_version("kv-cache-rbac", "dockerhub-password")
    react(KEY_VAULT, rotated["cloudEvent"], ctx)
    after_first = writes(sandbox)
    assert after_first == 2
    for _ in range(3):
        assert react(KEY_VAULT, rotated["cloudEvent"], ctx).status is ReactionStatus.DUPLICATE
    assert writes(sandbox) == after_first


def test_v3_then_v2_leaves_the_sets_on_v3(sandbox: Sandbox, ctx: Context) -> None:
    pin_to_current(sandbox, ctx)
    v2 = sandbox.add_secret_version("kv-cache-rbac", "dockerhub-password")
    sandbox.clock.advance(60)
    v3 = sandbox.add_secret_version("kv-cache-rbac", "dockerhub-password")
    react(KEY_VAULT, v3["eventGrid"], ctx)
    react(KEY_VAULT, v2["eventGrid"], ctx)
    for credential_set in SETS:
        assert ctx.registry.get_credential_set(credential_set).password.version == v3["version"]


@pytest.mark.parametrize("problem", ["disabled", "expired", "not yet valid"])
def test_unusable_versions_are_not_adopted_and_the_finding_says_why(
    sandbox: Sandbox, ctx: Context, problem: str
) -> None:
    current = pin_to_current(sandbox, ctx)
    now = sandbox.clock.now()
    options = {
        "disabled": {"enabled": False},
        "expired": {"expires": now - timedelta(minutes=1)},
        "not yet valid": {"not_before": now + timedelta(days=1)},
    }[problem]
    rotated = sandbox.add_secret_version("kv-cache-rbac", "dockerhub-password", **options)  # type: ignore[arg-type]
    reaction = react(KEY_VAULT, rotated["eventGrid"], ctx)
    assert reaction.status is ReactionStatus.NO_CHANGE
    assert writes(sandbox) == 0
    assert all(ctx.registry.get_credential_set(s).password.version == current for s in SETS)
    journal = ctx.journal
    assert isinstance(journal, MemoryJournal)
    (finding,) = [f for _, _, f in journal.finding_log if f.kind == "secret-version-not-adopted"]
    assert rotated["version"] in finding.message
    assert problem.split(maxsplit=1)[0] in finding.message


def test_events_from_a_vault_outside_the_allow_list_change_nothing(
    sandbox: Sandbox, ctx: Context
) -> None:
    pin_to_current(sandbox, ctx)
    rotated = sandbox.add_secret_version("kv-cache-rbac", "dockerhub-password")
    foreign = dict(rotated["eventGrid"])
    foreign["topic"] = (
        f"/subscriptions/{SUB}/resourceGroups/rg-secrets/providers/Microsoft.KeyVault/vaults/kv-elsewhere"
    )
    assert react(KEY_VAULT, foreign, ctx).status is ReactionStatus.IGNORED
    assert sandbox.log.all() == []


def test_malformed_events_are_recorded_and_write_nothing(sandbox: Sandbox, ctx: Context) -> None:
    event = load_event("keyvault.SecretNewVersionCreated.eventgrid.json")
    assert isinstance(event, dict)
    event["data"] = {"Id": "not a uri"}
    assert react(KEY_VAULT, event, ctx).status is ReactionStatus.REJECTED
    reference = load_event("keyvault.SecretNewVersionCreated.eventgrid.json")
    assert isinstance(reference, dict)
    assert react(KEY_VAULT, reference, ctx).status is ReactionStatus.IGNORED  # placeholder topic
    assert sandbox.log.all() == []


def test_one_rotation_costs_exactly_the_minimum_calls(sandbox: Sandbox, ctx: Context) -> None:
    """The call budget (docs/performance.md): one list per registry page, one versions list, and per set one read under the
    lease (compare-before-write: no lost update between workers) and one PATCH, whose answer is the
    read-back."""
    pin_to_current(sandbox, ctx)
    rotated = sandbox.add_secret_version("kv-cache-rbac", "dockerhub-password")
    react(KEY_VAULT, rotated["eventGrid"], ctx)
    calls = [r for r in sandbox.log.all() if not r.challenge]
    lists = [r for r in calls if r.method == "GET" and r.path.lower().endswith("/credentialsets")]
    versions = [r for r in calls if r.plane == "keyvault" and r.path.endswith("/versions")]
    patches = [r for r in calls if r.method == "PATCH"]
    reads = [r for r in calls if r.method == "GET" and "/credentialsets/" in r.path.lower()]
    # the fixture's page size is 2: contosocache's 3 credential sets take 2 pages, fabrikamcache's 1
    assert (len(lists), len(versions), len(patches), len(reads)) == (3, 1, 2, 2)
    assert len(calls) == 8
    assert not any(r.secret_value_served for r in sandbox.log.all())
