"""Journal writes that land on Table Storage while their answer is lost, one at a time: Azurite
behind the fault-injecting proxy (`tests/soak/tableproxy.py`) applies the request and drops the
connection before the answer. Each must converge at once on what the write meant: the attempt's
own claim is its own (never "another worker's" until the claim expires), a completion or release
that landed counts, a lease whose acquisition or renewal landed is held, and an outcome is
recorded exactly once. `direct` reads the truth straight from Azurite.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from azure.data.tables import TableServiceClient

from devhost.azurite import Azurite
from shared.adapters.tables import TableJournal
from shared.domain.plans import Finding, OutcomeStatus, Severity
from shared.errors import CachekeeperError, UpstreamUnavailableError
from shared.ports import ClaimStatus
from shared.services import Context
from shared.services.once import handle_once
from shared.services.records import record_signal
from shared.services.results import Reaction, ReactionStatus
from tests.integration.conftest_tables import service_fixture  # noqa: F401 - fixture
from tests.soak.run import new_sandbox
from tests.soak.tableproxy import ProxyFaults, TableProxy, service_through
from tests.soak.wiring import fast_context

pytestmark = pytest.mark.azurite

NOW = datetime(2030, 3, 1, 9, tzinfo=UTC)
TTL = timedelta(minutes=10)
CLAIMS, LEASES, IDENTITIES = "idempotency", "lease", "outcome_identity"


@pytest.fixture(name="faults")
def faults_fixture() -> ProxyFaults:
    return ProxyFaults()  # no random faults: only the scripted ones


@pytest.fixture(name="tables")
def tables_fixture(
    azurite: Azurite, service: TableServiceClient, faults: ProxyFaults
) -> Iterator[tuple[TableJournal, TableJournal]]:
    """(the journal through the proxy, the same table read directly)."""
    proxy = TableProxy(azurite.port, faults)
    name = f"t{uuid.uuid4().hex}"
    yield TableJournal(service_through(proxy), name), TableJournal(service, name)
    proxy.close()
    service.delete_table(name)


def test_a_claim_whose_insert_answer_is_lost_is_this_attempts(
    tables: tuple[TableJournal, TableJournal], faults: ProxyFaults
) -> None:
    journal, direct = tables
    faults.script("POST", CLAIMS, "reset after")
    claim = journal.claim("evt", "h", now=NOW, ttl=TTL)
    assert faults.counts["reset after"] == 1
    assert claim.status is ClaimStatus.NEW
    assert direct.claim("evt", "h", now=NOW, ttl=TTL).status is ClaimStatus.IN_PROGRESS
    journal.complete(claim, now=NOW, ttl=TTL)
    assert direct.claim("evt", "h", now=NOW, ttl=TTL).status is ClaimStatus.DUPLICATE


def test_a_claim_whose_insert_never_landed_is_inserted_again(
    tables: tuple[TableJournal, TableJournal], faults: ProxyFaults
) -> None:
    journal, direct = tables
    faults.script("POST", CLAIMS, "reset before")
    claim = journal.claim("evt", "h", now=NOW, ttl=TTL)
    assert faults.counts["reset before"] == 1 and claim.status is ClaimStatus.NEW
    assert direct.claim("evt", "h", now=NOW, ttl=TTL).status is ClaimStatus.IN_PROGRESS


def test_a_takeover_whose_answer_is_lost_is_this_attempts(
    tables: tuple[TableJournal, TableJournal], faults: ProxyFaults
) -> None:
    journal, direct = tables
    direct.claim("evt", "h", now=NOW, ttl=TTL)  # a crashed worker's, expired by NOW + TTL
    faults.script("PUT", CLAIMS, "reset after")
    taken = journal.claim("evt", "h", now=NOW + TTL, ttl=TTL)
    assert faults.counts["reset after"] == 1
    assert taken.status is ClaimStatus.NEW
    assert direct.claim("evt", "h", now=NOW + TTL, ttl=TTL).status is ClaimStatus.IN_PROGRESS


@pytest.mark.parametrize("fault", ["reset after", "reset before"])
def test_a_completion_whose_answer_is_lost_converges(
    tables: tuple[TableJournal, TableJournal], faults: ProxyFaults, fault: str
) -> None:
    journal, direct = tables
    claim = journal.claim("evt", "h", now=NOW, ttl=TTL)
    faults.script("PATCH", CLAIMS, fault)
    journal.complete(claim, now=NOW, ttl=TTL)  # landed: read back; never landed: merged again
    assert faults.counts[fault] == 1
    assert direct.claim("evt", "h", now=NOW, ttl=TTL).status is ClaimStatus.DUPLICATE


def test_a_release_whose_answer_is_lost_lets_the_redelivery_claim(
    tables: tuple[TableJournal, TableJournal], faults: ProxyFaults
) -> None:
    journal, direct = tables
    claim = journal.claim("evt", "h", now=NOW, ttl=TTL)
    faults.script("DELETE", CLAIMS, "reset after")
    journal.release(claim)  # the SDK resends the DELETE, which finds no row: fine
    assert faults.counts["reset after"] == 1
    assert direct.claim("evt", "h", now=NOW, ttl=TTL).status is ClaimStatus.NEW


def test_a_lost_claim_answer_that_cannot_be_read_back_waits_for_the_claim_to_expire(
    tables: tuple[TableJournal, TableJournal], faults: ProxyFaults
) -> None:
    """The one case left: the insert landed unanswered and every read-back failed too. Nobody can
    tell this attempt's row from a live worker's, so it is in progress until it expires."""
    journal, direct = tables
    faults.script("POST", CLAIMS, "reset after")
    faults.script("GET", CLAIMS, "reset before", times=4)  # the read and its three retries
    with pytest.raises(UpstreamUnavailableError):
        journal.claim("evt", "h", now=NOW, ttl=TTL)
    assert journal.claim("evt", "h", now=NOW, ttl=TTL).status is ClaimStatus.IN_PROGRESS
    assert direct.claim("evt", "h", now=NOW + TTL, ttl=TTL).status is ClaimStatus.NEW


def test_a_lease_whose_acquisition_or_renewal_answer_is_lost_is_held(
    tables: tuple[TableJournal, TableJournal], faults: ProxyFaults
) -> None:
    journal, direct = tables
    faults.script("POST", LEASES, "reset after")
    held = journal.acquire_lease("lease:set", owner="a", now=NOW, ttl=TTL)
    assert held is not None and held.owner == "a"
    later = NOW + timedelta(minutes=1)
    faults.script("PUT", LEASES, "reset after")
    renewed = journal.renew_lease(held, now=later, ttl=TTL)
    assert faults.counts["reset after"] == 2
    assert renewed.expires_at == later + TTL
    assert direct.acquire_lease("lease:set", owner="b", now=later, ttl=TTL) is None
    journal.release_lease(renewed)  # the renewed ETag is the row's: the release deletes it
    assert direct.acquire_lease("lease:set", owner="b", now=later, ttl=TTL) is not None


def test_an_outcome_whose_identity_answer_is_lost_is_recorded_once(
    tables: tuple[TableJournal, TableJournal], faults: ProxyFaults
) -> None:
    journal, direct = tables
    ctx = fast_context(new_sandbox(1), journal=journal)
    faults.script("POST", IDENTITIES, "reset after")
    record_signal(ctx, "evt", "/r", OutcomeStatus.NO_CHANGE, "first")
    record_signal(ctx, "evt", "/r", OutcomeStatus.NO_CHANGE, "again")
    assert faults.counts["reset after"] == 1
    assert [(o.signal_id, o.reason) for o in direct.outcomes()] == [("evt", "first")]


def test_a_finding_whose_answer_is_lost_is_recorded_once(
    tables: tuple[TableJournal, TableJournal], faults: ProxyFaults
) -> None:
    journal, direct = tables
    finding = Finding("credential-set-unhealthy", Severity.ERROR, "/r", "unhealthy")
    faults.script("PUT", "finding-", "reset after")  # the SDK resends the PUT of a fresh row
    journal.record_finding(finding, signal_id="evt", at=NOW)
    assert faults.counts["reset after"] == 1
    assert direct.findings() == [finding]


@pytest.mark.parametrize(
    ("method", "partition"),
    [("POST", CLAIMS), ("PATCH", CLAIMS), ("POST", IDENTITIES), ("PUT", "outcome-")],
    ids=["claim", "complete", "outcome identity", "outcome entry"],
)
def test_a_signal_whose_journal_answer_is_lost_has_one_outcome_and_no_blocked_redelivery(
    tables: tuple[TableJournal, TableJournal], faults: ProxyFaults, method: str, partition: str
) -> None:
    """handle_once over a journal that loses one answer: the delivery resolves it (no delivery
    fails, none is told another worker handles the signal), the work runs once, and the signal
    ends with one outcome."""
    journal, direct = tables
    ctx = fast_context(new_sandbox(1), journal=journal)
    runs: list[str] = []

    def handle() -> Reaction:
        runs.append("run")
        record_signal(ctx, "evt", "/r", OutcomeStatus.NO_CHANGE, f"run {len(runs)}")
        return Reaction(ReactionStatus.NO_CHANGE, "nothing to do")

    faults.script(method, partition, "reset after")
    reactions = [_deliver(ctx, handle) for _ in range(3)]
    assert faults.counts["reset after"] == 1
    assert reactions == ["no-change", "duplicate", "duplicate"]  # resolved within the attempt
    assert runs == ["run"]
    assert [o.reason for o in direct.outcomes()] == ["run 1"]


def _deliver(ctx: Context, handle: Callable[[], Reaction]) -> str:
    """One delivery of the signal `evt`: the reaction's status, or the error it failed with."""
    try:
        reaction = handle_once(
            ctx, key="test:evt", payload_hash="h", signal_id="evt", resource="/r", handle=handle
        )
    except CachekeeperError as error:  # ConcurrencyError: blocked until the claim expires
        return f"{type(error).__name__}: {error}"
    return reaction.status.value
