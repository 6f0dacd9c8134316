"""Crash safety: a worker killed between applying a change and recording it.

Redelivery converges on the same state with exactly one terminal outcome, and a claim (or lease)
a dead worker left "in progress" expires instead of blocking the event forever.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from azure.data.tables import TableServiceClient

from sandbox import Sandbox
from shared.adapters.memory import MemoryJournal
from shared.adapters.tables import TableJournal
from shared.domain.ids import ResourceId
from shared.domain.plans import OutcomeStatus
from shared.errors import ConcurrencyError
from shared.ports import Journal
from shared.services import Context, ReactionStatus
from shared.services.leases import LEASE_TTL
from shared.services.once import IN_PROGRESS_TTL
from shared.services.reactions import react
from shared.signals import KEY_VAULT
from tests.integration.app_context import REGISTRIES
from tests.integration.conftest_tables import service_fixture, table_fixture
from tests.soak.checks import current_refs, downgrades, terminal_counts
from tests.soak.crash import Crash, DyingRegistry, Worker, WorkerJournal
from tests.soak.wiring import fast_context

__all__ = ["service_fixture", "table_fixture"]

VAULT = "kv-cache-policies"
GHCR = ResourceId.parse(REGISTRIES["contosocache"]).child("credentialSets", "ghcr-acme")


def worker_context(sandbox: Sandbox, journal: Journal, worker: Worker, **dying: bool) -> Context:
    ctx = fast_context(sandbox, journal=WorkerJournal(journal, worker, **dying))
    if not dying:
        ctx = dataclasses.replace(ctx, registry=DyingRegistry(ctx.registry, worker))
    return ctx


def ghcr_password(sandbox: Sandbox) -> str:
    return sandbox.credential_set("contosocache", "ghcr-acme").credentials[0].password_uri


def test_killed_before_recording_then_redelivered_converges_once(sandbox: Sandbox) -> None:
    journal = MemoryJournal()
    initial = current_refs(sandbox)
    rotated = sandbox.add_secret_version(VAULT, "ghcr-password")
    event = rotated["eventGrid"]
    first = Worker(soft=True)  # the exception unwinds: cleanup (release) runs
    with pytest.raises(Crash):
        react(KEY_VAULT, event, worker_context(sandbox, journal, first, die_on_record=True))
    assert ghcr_password(sandbox).endswith(rotated["version"])  # applied, not recorded
    assert journal.outcome_log == []
    patches = len(sandbox.log.writes("/credentialSets/"))

    second = fast_context(sandbox, journal=journal)
    reaction = react(KEY_VAULT, event, second)
    assert reaction.status is ReactionStatus.NO_CHANGE  # state is already right
    assert len(sandbox.log.writes("/credentialSets/")) == patches  # nothing written twice
    assert terminal_counts(journal.outcome_log) == {event["id"]: 1}
    assert react(KEY_VAULT, event, second).status is ReactionStatus.DUPLICATE
    assert downgrades(sandbox, initial) == []


def hard_kill_then_recover(sandbox: Sandbox, journal: Journal) -> None:
    initial = current_refs(sandbox)
    rotated = sandbox.add_secret_version(VAULT, "ghcr-password")
    event = rotated["cloudEvent"]
    dead = Worker()  # killed outright: no finally runs, the claim and the lease stay behind
    with pytest.raises(Crash):
        react(KEY_VAULT, event, worker_context(sandbox, journal, dead))
    assert dead.deaths == 1
    assert ghcr_password(sandbox).endswith(rotated["version"])

    live = fast_context(sandbox, journal=journal)
    # Event Grid redelivers within minutes: the dead worker's claim still blocks, transiently
    sandbox.clock.advance(60)
    with pytest.raises(ConcurrencyError):
        react(KEY_VAULT, event, live)
    assert terminal_counts(journal.outcomes(limit=1000)) == {}
    # later redeliveries find the claim (and the lease) expired and finish the job
    sandbox.clock.advance((max(IN_PROGRESS_TTL, LEASE_TTL) + timedelta(seconds=1)).total_seconds())
    reaction = react(KEY_VAULT, event, live)
    assert reaction.status is ReactionStatus.NO_CHANGE
    assert terminal_counts(journal.outcomes(limit=1000)) == {event["id"]: 1}
    (closing,) = [o for o in journal.outcomes(limit=1000) if o.action is None]
    assert closing.status is OutcomeStatus.NO_CHANGE
    # and the lease on the credential set is free again: another rotation goes straight through
    sandbox.clock.advance(5)
    newer = sandbox.add_secret_version(VAULT, "ghcr-password")
    assert react(KEY_VAULT, newer["eventGrid"], live).status is ReactionStatus.APPLIED
    assert ghcr_password(sandbox).endswith(newer["version"])
    assert downgrades(sandbox, initial) == []


def test_a_claim_left_in_progress_by_a_dead_worker_expires(sandbox: Sandbox) -> None:
    sandbox.clock.set(sandbox.clock.now())
    hard_kill_then_recover(sandbox, MemoryJournal())


@pytest.mark.azurite
def test_a_dead_workers_claim_expires_on_the_table_journal(
    sandbox: Sandbox, service: TableServiceClient, table: str
) -> None:
    sandbox.clock.set(sandbox.clock.now())
    hard_kill_then_recover(sandbox, TableJournal(service, table))


def test_a_lease_held_by_a_dead_worker_blocks_only_until_it_expires(sandbox: Sandbox) -> None:
    """The credential-set lease (shared.services.leases) outlives its holder by LEASE_TTL only."""
    sandbox.clock.set(sandbox.clock.now())
    journal = MemoryJournal()
    now = sandbox.clock.now()
    key = f"lease:{str(GHCR).lower()}"
    assert journal.acquire_lease(key, owner="dead", now=now, ttl=LEASE_TTL) is not None  # the dead
    ctx = fast_context(sandbox, journal=journal)
    rotated = sandbox.add_secret_version(VAULT, "ghcr-password")
    with pytest.raises(ConcurrencyError):  # waits a few seconds, then asks for a redelivery
        react(KEY_VAULT, rotated["eventGrid"], ctx)
    assert sandbox.log.writes("/credentialSets/") == []
    sandbox.clock.advance(LEASE_TTL.total_seconds() + 1)
    assert react(KEY_VAULT, rotated["eventGrid"], ctx).status is ReactionStatus.APPLIED
    assert ghcr_password(sandbox).endswith(rotated["version"])
