"""The credential-set lease is a fenced lock: owner-checked, ETag-conditional renewal and release,
and no write is sent once the writer's lease is gone (both journals; Azurite for the table one).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from azure.data.tables import TableServiceClient

from sandbox import Sandbox
from shared.adapters.memory import MemoryJournal
from shared.adapters.tables import TableJournal
from shared.domain.ids import ResourceId
from shared.errors import ConcurrencyError
from shared.ports import Journal, Registry
from shared.services import ReactionStatus
from shared.services.leases import LEASE_TTL, lease
from shared.services.reactions import react
from shared.signals import KEY_VAULT
from tests.integration.app_context import REGISTRIES
from tests.integration.conftest_tables import service_fixture, table_fixture
from tests.soak.checks import current_refs, downgrades
from tests.soak.wiring import fast_context

__all__ = ["service_fixture", "table_fixture"]

VAULT = "kv-cache-policies"
GHCR = ResourceId.parse(REGISTRIES["contosocache"]).child("credentialSets", "ghcr-acme")
KEY = f"lease:{str(GHCR).lower()}"
PAST_THE_LEASE = LEASE_TTL.total_seconds() + 1


@pytest.fixture(
    name="journal", params=["memory", pytest.param("tables", marks=pytest.mark.azurite)]
)
def journal_fixture(request: pytest.FixtureRequest) -> Iterator[Journal]:
    if request.param == "memory":
        yield MemoryJournal()
        return
    service: TableServiceClient = request.getfixturevalue("service")
    yield TableJournal(service, request.getfixturevalue("table"))


def test_an_expired_holders_release_leaves_the_new_holders_lease(
    sandbox: Sandbox, journal: Journal
) -> None:
    sandbox.clock.set(sandbox.clock.now())
    ctx = fast_context(sandbox, journal=journal)
    with lease(ctx, str(GHCR)):  # worker A
        sandbox.clock.advance(PAST_THE_LEASE)  # A stalls: its lease expires
        with lease(ctx, str(GHCR)):  # worker B takes it over ...
            pass  # ... and is still inside when A leaves (A's release runs first below)
            b_inside = journal.acquire_lease(KEY, owner="C", now=sandbox.clock.now(), ttl=LEASE_TTL)
            assert b_inside is None
        # B left: its own release freed the lease (C may enter now)
    assert journal.acquire_lease(KEY, owner="C", now=sandbox.clock.now(), ttl=LEASE_TTL)


def test_a_release_by_the_previous_holder_does_not_free_the_lease(
    sandbox: Sandbox, journal: Journal
) -> None:
    sandbox.clock.set(sandbox.clock.now())
    ctx = fast_context(sandbox, journal=journal)
    a_block = lease(ctx, str(GHCR))
    a_block.__enter__()  # worker A holds the lease
    sandbox.clock.advance(PAST_THE_LEASE)
    with lease(ctx, str(GHCR)):  # worker B takes the expired lease over
        a_block.__exit__(None, None, None)  # A wakes up and leaves its block: releases
        third = journal.acquire_lease(KEY, owner="C", now=sandbox.clock.now(), ttl=LEASE_TTL)
        assert third is None  # B still holds it: A's release did not delete B's lease


def test_renewal_by_anyone_but_the_holder_fails(sandbox: Sandbox, journal: Journal) -> None:
    now = sandbox.clock.now()
    first = journal.acquire_lease(KEY, owner="A", now=now, ttl=LEASE_TTL)
    assert first is not None
    renewed = journal.renew_lease(first, now=now, ttl=LEASE_TTL)  # the holder may
    later = now + LEASE_TTL + LEASE_TTL
    second = journal.acquire_lease(KEY, owner="B", now=later, ttl=LEASE_TTL)
    assert second is not None  # A's lease expired: B took it over
    with pytest.raises(ConcurrencyError):
        journal.renew_lease(renewed, now=later, ttl=LEASE_TTL)  # A, expired and taken over
    with pytest.raises(ConcurrencyError):  # A again, pretending its lease had not expired
        journal.renew_lease(renewed, now=now, ttl=LEASE_TTL)
    stale_etag = "W/\"datetime'2020-01-01T00%3A00%3A00.0000000Z'\""  # well-formed, not this row's
    forged = type(second)(second.key, "A", second.expires_at, stale_etag)
    with pytest.raises(ConcurrencyError):
        journal.renew_lease(forged, now=later, ttl=LEASE_TTL)
    journal.release_lease(renewed)  # A's release is refused quietly
    assert journal.acquire_lease(KEY, owner="C", now=later, ttl=LEASE_TTL) is None
    assert journal.renew_lease(second, now=later, ttl=LEASE_TTL).owner == "B"


class StallingRegistry:
    """The real registry; the first credential-set write stalls before it is sent (`stall`)."""

    def __init__(self, inner: Registry, stall: Callable[[], None]) -> None:
        self._inner = inner
        self._stall: Callable[[], None] | None = stall

    def update_credential_set(self, credential_set: ResourceId, **kwargs: Any) -> Any:
        if self._stall is not None:
            stall, self._stall = self._stall, None
            stall()
        return self._inner.update_credential_set(credential_set, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def test_a_write_stalled_past_its_lease_is_not_sent(sandbox: Sandbox, journal: Journal) -> None:
    sandbox.clock.set(sandbox.clock.now())
    initial = current_refs(sandbox)
    older = sandbox.add_secret_version(VAULT, "ghcr-password")
    newer: dict[str, Any] = {}
    rival = fast_context(sandbox, journal=journal)

    def stall() -> None:  # A stalls past its lease; meanwhile B rotates to a newer version
        sandbox.clock.advance(PAST_THE_LEASE)
        newer.update(sandbox.add_secret_version(VAULT, "ghcr-password"))
        assert react(KEY_VAULT, newer["eventGrid"], rival).status is ReactionStatus.APPLIED

    base = fast_context(sandbox, journal=journal)
    stalling = type(base)(**{**_fields(base), "registry": StallingRegistry(base.registry, stall)})
    with pytest.raises(ConcurrencyError):  # transient: the signal is redelivered
        react(KEY_VAULT, older["eventGrid"], stalling)
    password = sandbox.credential_set("contosocache", "ghcr-acme").credentials[0].password_uri
    assert password.endswith(newer["version"])  # B's newer version stays
    assert len(sandbox.log.writes("/credentialSets/")) == 1  # only B's PATCH was sent
    assert downgrades(sandbox, initial) == []
    # A's redelivery re-plans from the state B left: nothing older is put back
    react(KEY_VAULT, older["eventGrid"], rival)
    assert (
        sandbox.credential_set("contosocache", "ghcr-acme")
        .credentials[0]
        .password_uri.endswith(newer["version"])
    )
    assert downgrades(sandbox, initial) == []


def _fields(ctx: Any) -> dict[str, Any]:
    return {name: getattr(ctx, name) for name in ctx.__slots__}


def test_every_attempt_of_a_write_checks_the_fence_retries_included(sandbox: Sandbox) -> None:
    registry = fast_context(sandbox).registry  # the real ACR client over the sandbox
    current = registry.get_credential_set(GHCR)
    sandbox.faults.script(r"/credentialSets/ghcr-acme$", "503", method="PATCH")
    checks: list[int] = []

    def fence() -> None:  # the lease is fine for the first attempt, gone by the retry
        checks.append(len(checks))
        if len(checks) > 1:
            raise ConcurrencyError("the lease is gone")

    with pytest.raises(ConcurrencyError, match="the lease is gone"):
        registry.update_credential_set(
            GHCR, username=current.username, password=current.password, fence=fence
        )
    assert checks == [0, 1]  # checked before the first attempt and again before the retry
    assert [r.status for r in sandbox.log.writes("/credentialSets/")] == [503]  # no retry sent
