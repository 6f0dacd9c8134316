"""TableJournal against Azurite: outcomes and findings newest first across days; size caps."""

from __future__ import annotations

import logging
import random
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone

import pytest
from azure.data.tables import TableServiceClient

from shared.adapters.tables import TableJournal, tables_service
from shared.domain.plans import ActionKind, Finding, Outcome, OutcomeStatus, Severity
from tests.integration.conftest_tables import (  # noqa: F401 - fixtures
    connection_string_fixture,
    journal_fixture,
    service_fixture,
    table_fixture,
)

pytestmark = pytest.mark.azurite

DAY_ONE = datetime(2026, 11, 22, tzinfo=UTC)
DAY_TWO = datetime(2026, 11, 23, tzinfo=UTC)
MOMENTS = [
    DAY_ONE + timedelta(hours=10),
    DAY_ONE + timedelta(hours=23, minutes=59, seconds=59, microseconds=999_999),
    DAY_TWO,
    DAY_TWO + timedelta(hours=12, microseconds=1),
]


def outcome(at: datetime, n: int) -> Outcome:
    return Outcome(
        signal_id=f"evt-{n}",
        resource="/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/r/credentialSets/hub",
        status=OutcomeStatus.SUCCEEDED,
        reason=f"moved to the newest valid version ({n})",
        at=at,
        action=ActionKind.UPDATE_CREDENTIAL_SET,
        before={"password": "https://kv.vault.azure.net/secrets/t/1", "n": n},
        after={"password": "https://kv.vault.azure.net/secrets/t/2", "nested": {"ok": True}},
        health="Healthy",
    )


def finding(n: int) -> Finding:
    return Finding(
        "secret-near-expiry",
        Severity.WARNING,
        f"secret-{n}",
        f"expires soon ({n})",
        "rotate it",
        {"days": n},
    )


@pytest.fixture
def newest_first() -> list[Outcome]:
    return [outcome(at, n) for n, at in reversed(list(enumerate(MOMENTS)))]


def test_outcomes_come_back_newest_first_across_days(
    journal: TableJournal, newest_first: list[Outcome]
) -> None:
    for item in random.sample(newest_first, len(newest_first)):
        journal.record_outcome(item)
    assert journal.outcomes() == newest_first
    assert journal.outcomes(limit=2) == newest_first[:2]
    assert journal.outcomes(limit=0) == []
    assert journal.outcomes(since=MOMENTS[1]) == newest_first[:3]  # `since` is inclusive
    assert journal.outcomes(since=MOMENTS[1] + timedelta(microseconds=1)) == newest_first[:2]
    assert journal.outcomes(since=DAY_ONE, limit=3) == newest_first[:3]
    assert journal.outcomes(since=DAY_TWO + timedelta(days=1)) == []
    local = MOMENTS[1].astimezone(datetime.now().astimezone().tzinfo)
    assert journal.outcomes(since=local) == newest_first[:3]


def test_an_outcome_round_trips_exactly(journal: TableJournal) -> None:
    plain = Outcome("evt", "res", OutcomeStatus.IGNORED, "out of scope", DAY_TWO)
    journal.record_outcome(plain)
    assert journal.outcomes() == [plain]
    assert journal.outcomes()[0].to_dict() == plain.to_dict()


def test_findings_come_back_newest_first_with_since_and_limit(journal: TableJournal) -> None:
    for n, at in random.sample(list(enumerate(MOMENTS)), len(MOMENTS)):
        journal.record_finding(finding(n), signal_id=f"evt-{n}", at=at)
    assert journal.findings() == [finding(3), finding(2), finding(1), finding(0)]
    assert journal.findings(since=DAY_TWO) == [finding(3), finding(2)]
    assert journal.findings(since=DAY_ONE, limit=3) == [finding(3), finding(2), finding(1)]
    assert journal.outcomes() == []  # kinds do not mix


def test_huge_evidence_is_truncated_not_lost(journal: TableJournal) -> None:
    evidence = {"assignments": [{"id": f"/x/{i}", "role": "reader ✓"} for i in range(5_000)]}
    big = Finding(
        "access-gap", Severity.ERROR, "cs", "identity cannot read the secret", "grant it", evidence
    )
    journal.record_finding(big, signal_id="evt", at=DAY_TWO)
    [read] = journal.findings()
    assert (read.kind, read.message, read.fix) == (big.kind, big.message, big.fix)
    assert read.evidence["truncated"] is True
    assert read.evidence["originalChars"] > 100_000
    assert read.evidence["preview"].startswith('{"assignments":[{"id":"/x/0"')


def test_huge_text_fields_are_shortened(journal: TableJournal) -> None:
    long = Outcome(
        "evt", "res", OutcomeStatus.FAILED, "é" * 100_000, DAY_TWO, before={"x": "y" * 80_000}
    )
    journal.record_outcome(long)
    [read] = journal.outcomes()
    assert read.reason.endswith("…[truncated]") and read.reason.startswith("ééé")
    assert read.before["truncated"] is True and read.after == {}


def test_an_unreadable_row_is_skipped(
    journal: TableJournal, service: TableServiceClient, table: str, caplog: pytest.LogCaptureFixture
) -> None:
    journal.record_outcome(outcome(DAY_TWO, 1))
    raw = service.get_table_client(table)
    [row] = [e for e in raw.list_entities() if e["PartitionKey"].startswith("outcome-")]
    raw.upsert_entity({**row, "RowKey": "000000000000000000-broken", "data": "{not json"})
    with caplog.at_level(logging.WARNING, logger="shared.adapters.tables"):
        assert journal.outcomes() == [outcome(DAY_TWO, 1)]
    assert "000000000000000000-broken" in caplog.text


def success(
    resource: str, at: datetime, status: OutcomeStatus = OutcomeStatus.SUCCEEDED
) -> Outcome:
    return Outcome(
        "evt", resource, status, "refreshed", at, action=ActionKind.REFRESH_CREDENTIAL_SET
    )


def test_last_success_only_moves_forward(journal: TableJournal) -> None:
    cs = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/r/credentialSets/Hub"
    assert journal.last_success(cs, ActionKind.REFRESH_CREDENTIAL_SET) is None
    journal.record_outcome(success(cs, MOMENTS[2]))
    journal.record_outcome(success(cs, MOMENTS[0]))  # recorded late: older, ignored
    journal.record_outcome(success(cs, MOMENTS[3], OutcomeStatus.FAILED))  # not a success
    journal.record_outcome(Outcome("evt", cs, OutcomeStatus.SUCCEEDED, "no action", MOMENTS[3]))
    assert journal.last_success(cs.lower(), ActionKind.REFRESH_CREDENTIAL_SET) == MOMENTS[2]
    assert journal.last_success(cs, ActionKind.UPDATE_CREDENTIAL_SET) is None
    later = (MOMENTS[3] + timedelta(hours=1)).astimezone(timezone(timedelta(hours=2)))
    journal.record_outcome(success(cs.upper(), later))
    found = journal.last_success(cs, ActionKind.REFRESH_CREDENTIAL_SET)
    assert found == later and found is not None and found.utcoffset() == timedelta(hours=2)


def test_concurrent_successes_keep_the_newest(connection_string: str, table: str) -> None:
    workers = [TableJournal(tables_service(connection_string), table) for _ in range(4)]
    moments = [DAY_ONE + timedelta(minutes=m) for m in random.sample(range(200), 40)]

    def record(index: int) -> None:
        for moment in moments[index::4]:
            workers[index].record_outcome(success("cs", moment))

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(record, range(4)))
    assert workers[0].last_success("cs", ActionKind.REFRESH_CREDENTIAL_SET) == max(moments)


def test_rule_refusals_are_kept_one_per_rule_and_listed_by_registry(journal: TableJournal) -> None:
    from shared.domain.refusals import RuleRefusal

    registry = (
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/Reg1"
    )
    other = registry.replace("Reg1", "reg2")
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    journal.remember_refusal(RuleRefusal(f"{registry}/cacheRules/team-all", "s1", "409 no", at))
    journal.remember_refusal(RuleRefusal(f"{registry}/cacheRules/team-all", "s2", "409 again", at))
    journal.remember_refusal(RuleRefusal(f"{other}/cacheRules/team-all", "s3", "409", at))
    (kept,) = journal.refusals(registry.lower())
    assert (kept.state, kept.reason, kept.at) == ("s2", "409 again", at)  # the newer replaced it
    assert [r.state for r in journal.refusals(other)] == ["s3"]


def test_announcements_are_kept_per_secret_with_sub_second_times(journal: TableJournal) -> None:
    from shared.adapters.memory import MemoryJournal
    from shared.domain.secrets import SecretRef

    secret = SecretRef.parse("https://kv-cache.vault.azure.net/secrets/Hub-Token")
    other = SecretRef.parse("https://kv-cache.vault.azure.net/secrets/hub-token-2")
    first = DAY_ONE + timedelta(microseconds=100_000)
    second = DAY_ONE + timedelta(microseconds=500_000)
    for store in (journal, MemoryJournal()):
        assert store.announcements(secret) == {}
        store.record_announcement(secret.with_version("b" * 32), at=second)
        store.record_announcement(secret.with_version("a" * 32), at=first)
        store.record_announcement(secret.with_version("a" * 32), at=first)  # a redelivery
        store.record_announcement(other.with_version("c" * 32), at=second)
        store.record_announcement(secret, at=second)  # versionless: nothing to remember
        assert store.announcements(secret.with_version("d" * 32)) == {
            "a" * 32: first,
            "b" * 32: second,
        }
        assert store.announcements(other) == {"c" * 32: second}


def test_pending_verifications_and_their_outcomes_are_kept(journal: TableJournal) -> None:
    from shared.domain.verification import PendingVerification

    cs = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/r/credentialSets/hub"
    pending = PendingVerification.start(
        "evt-9", ActionKind.REFRESH_CREDENTIAL_SET, cs, cs, "re-send", at=MOMENTS[0]
    )
    other = PendingVerification.start(
        "evt-8", ActionKind.GRANT_SECRET_READ, "https://kv.vault.azure.net/secrets/u", cs,
        "grant", at=MOMENTS[1],
    )  # fmt: skip
    journal.schedule_verification(pending)
    journal.schedule_verification(other)
    assert journal.pending_verifications() == [pending, other]
    assert journal.pending_verifications(due_at=MOMENTS[0]) == []
    assert journal.pending_verifications(due_at=pending.next_check_at) == [pending]
    later = pending.rescheduled(pending.next_check_at)
    journal.schedule_verification(later)  # replaces, by key
    assert journal.pending_verifications() == [later, other]
    journal.end_verification(pending.key)
    journal.end_verification(pending.key)  # a missing one is fine
    assert journal.pending_verifications() == [other]

    held = Outcome("evt-9", cs, OutcomeStatus.PENDING_VERIFICATION, "re-send; pending",
                   MOMENTS[0], ActionKind.REFRESH_CREDENTIAL_SET, health="Unhealthy")  # fmt: skip
    journal.record_outcome(held)
    assert journal.outcomes(limit=10) == [held]
    assert journal.last_success(cs, ActionKind.REFRESH_CREDENTIAL_SET) is None  # not a success
