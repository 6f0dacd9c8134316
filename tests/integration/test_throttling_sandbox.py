"""The audit against a sandbox that throttles as ARM and Key Vault do, on the sandbox clock.

ARM's read bucket holds 250 tokens and refills at 25 per second of the sandbox clock; the fleet
needs more reads than that. The product paces its reads per subscription from the remaining-budget
headers, keeps `ARM_READ_RESERVE` for the principal's other tools, waits out any 429, and reports
itself partial (never failed) when the waits would outlast its budget. The pacing waits move the
pinned sandbox clock: no test waits on the wall clock.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any

import pytest

from bench import scenarios as sc
from bench.wiring import bench_settings
from sandbox import RequestRecord, Sandbox, wiring
from shared.adapters.memory import MemoryJournal, MemoryPolicyStore, MemoryReportStore
from shared.domain.ids import ResourceId
from shared.domain.policies import Policy
from shared.domain.time_budgets import AUDIT_WAIT_BUDGET
from shared.services import Context
from shared.services.audit import NOT_AUDITED, AuditReport, run_audit
from shared.services.context import MAX_CONCURRENCY

SUB_A = "00000000-0000-0000-0000-000000000001"  # the fleet's own subscription
SUB_B = "00000000-0000-0000-0000-0000000000b2"
PRINCIPAL = "sandbox-token"  # the sandbox's credential's token stands for the principal
RESERVE = 50
START = "2026-06-01T00:00:00Z"


def fleet(in_a: int, in_b: int = 0, *, vaults_in: str = SUB_A) -> dict[str, Any]:
    """`in_a` registries in SUB_A, then `in_b` in SUB_B; the vaults in `vaults_in`."""
    doc = sc.fleet(registries=in_a + in_b, sets=4, rules=8)
    for registry in doc["registries"][in_a:]:
        registry["subscription"] = SUB_B
    for vault in doc["vaults"]:
        vault["subscription"] = vaults_in
    return doc


def throttling_sandbox(doc: dict[str, Any], **options: Any) -> Sandbox:
    sb = Sandbox(doc | {"throttling": {"enabled": True}}, **options)
    sb.clock.set(START)
    return sb


def context(sb: Sandbox, registries: list[str], **settings: str) -> Context:
    ids = [r["name"] for r in sb.scenario.raw["registries"]]
    assert sorted(ids) == sorted(registries)
    env = {"ARM_READ_RESERVE": str(RESERVE)} | settings
    configured = bench_settings(registries, sc.VAULTS, **env)
    raw = sb.scenario.raw
    where = {r["name"]: r.get("subscription", SUB_A) for r in raw["registries"] + raw["vaults"]}

    def moved(ids: tuple[ResourceId, ...]) -> tuple[ResourceId, ...]:
        return tuple(ResourceId.parse(str(i).replace(SUB_A, where[i.name])) for i in ids)

    rows = [Policy.from_dict(p) for p in sb.scenario.policies]
    return wiring.sandbox_context(
        sb,
        replace(
            configured,
            managed_registries=moved(configured.managed_registries),
            vault_allowlist=moved(configured.vault_allowlist),
        ),
        policies=MemoryPolicyStore(rows),
        journal=MemoryJournal(),
        sleep_scale=0,  # the SDK's own retries never sleep: only the pacing waits, on the clock
    )


def arm_reads(sb: Sandbox, subscription: str) -> list[RequestRecord]:
    return sb.requests_matching(f"^/subscriptions/{subscription}/", plane="arm", method="GET")


def kinds(report: AuditReport) -> Counter[str]:
    return Counter(f.kind for f in report.findings)


def test_an_audit_larger_than_the_burst_is_paced_keeps_the_reserve_and_never_draws_a_429() -> None:
    names = sc.registry_names(60)
    sb = throttling_sandbox(fleet(60))
    left = sb.throttle.spend(SUB_A, 100, principal=PRINCIPAL, now=sb.clock.now())  # another tool
    assert left == 150
    report = run_audit(context(sb, names), reconcile=False)

    assert report.partial is None and kinds(report)[NOT_AUDITED] == 0
    reads = arm_reads(sb, SUB_A)
    assert len(reads) > 250  # more than the whole burst, let alone what the other tool left
    assert [r for r in sb.requests if r.status == 429] == []  # paced, not retried
    # down to the reserve (give or take the calls in flight) and never below it
    lowest = sb.throttle.lowest(SUB_A)
    assert lowest is not None and RESERVE <= lowest < RESERVE + MAX_CONCURRENCY
    assert min(r.extra["remaining"] for r in reads) == lowest
    # the reads past the burst came as the bucket refilled: the sandbox clock moved by waits
    waited = sb.clock.now().timestamp() - reads[0].extra["at"]
    assert waited >= (len(reads) - (150 - RESERVE)) / 25 - 1

    # the same findings and plan as the same audit against a sandbox that never throttles
    unthrottled = Sandbox(fleet(60))
    unthrottled.clock.set(START)
    expected = run_audit(context(unthrottled, names), reconcile=False)
    assert kinds(report) == kinds(expected) and report.plan.actions == expected.plan.actions


def test_each_subscription_is_paced_on_its_own_budget() -> None:
    names = sc.registry_names(66)
    sb = throttling_sandbox(fleet(60, 6))
    report = run_audit(context(sb, names), reconcile=False)
    assert report.partial is None and [r for r in sb.requests if r.status == 429] == []

    a, b = arm_reads(sb, SUB_A), arm_reads(sb, SUB_B)
    assert a and b
    lowest = sb.throttle.lowest(SUB_A)  # A was paced down to its reserve
    assert lowest is not None and RESERVE <= lowest < RESERVE + MAX_CONCURRENCY
    paced_from = next(r.seq for r in a if r.extra["remaining"] < RESERVE + MAX_CONCURRENCY)
    # B's reads went out while A was being paced, B's bucket never touched by A's reads
    assert any(r.seq > paced_from for r in b)
    # (it refills as A's waits move the clock: it never held fewer than 250 minus B's reads)
    assert sb.throttle.lowest(SUB_B) == min(r.extra["remaining"] for r in b) >= 250 - len(b)


def test_a_429_is_waited_out_and_past_the_budget_the_audit_is_partial_not_failed() -> None:
    # the other tool drained SUB_A and its bucket refills slowly: each read there costs a
    # Retry-After of 20 s, so the audit's wait budget runs out; SUB_B's registries are audited
    names = sc.registry_names(10)
    sb = throttling_sandbox(fleet(6, 4, vaults_in=SUB_B), arm_read_refill=0.05)
    sb.throttle.spend(SUB_A, 250, principal=PRINCIPAL, now=sb.clock.now())
    report = run_audit(context(sb, names), reconcile=False)

    throttled = [r for r in sb.requests if r.status == 429]
    assert throttled and all(r.path.startswith(f"/subscriptions/{SUB_A}/") for r in throttled)
    assert any(r.status == 200 for r in arm_reads(sb, SUB_A))  # some were waited out
    skipped = [f for f in report.findings if f.kind == NOT_AUDITED]
    assert skipped and all(SUB_A in f.resource for f in skipped)
    assert report.partial is not None and "not audited" in report.partial
    assert report.to_dict()["partial"] is True
    audited_b = {r.path.split("/")[8] for r in arm_reads(sb, SUB_B) if "/cacheRules" in r.path}
    assert audited_b == set(names[6:])
    # every registry is either judged (B's, and an A one whose 429s were waited out) or named
    judged = kinds(report)["log-routing-missing"]
    assert judged >= 4 and judged + len(skipped) == len(names)
    # the audit stopped waiting within its budget: RUN_TIMEOUT less one call's CALL_BUDGET
    elapsed = sb.clock.now().timestamp() - throttled[0].extra["at"]
    assert elapsed <= AUDIT_WAIT_BUDGET.total_seconds()


def test_when_a_phase_after_the_registries_runs_out_of_time_the_whole_report_is_partial() -> None:
    # B's credential sets read vaults in the drained SUB_A: their reads cannot finish in time
    names = sc.registry_names(10)
    sb = throttling_sandbox(fleet(6, 4, vaults_in=SUB_A), arm_read_refill=0.05)
    sb.throttle.spend(SUB_A, 250, principal=PRINCIPAL, now=sb.clock.now())
    reports = MemoryReportStore()
    report = run_audit(replace(context(sb, names), reports=reports), reconcile=False)
    assert report.partial is not None and "no time to finish" in report.partial
    assert report.findings == () and report.plan.actions == () and not report.clean
    kept = reports.latest_report()
    assert kept is not None and kept["partial"] is True and kept["id"] == report.id


@pytest.mark.parametrize("retry_after", [None, 3])
def test_key_vault_429s_are_waited_out_with_or_without_retry_after(retry_after: int | None) -> None:
    names = sc.registry_names(4)
    sb = throttling_sandbox(
        fleet(4), kv_transactions_per_10s=2, kv_throttle_retry_after=retry_after
    )
    report = run_audit(context(sb, names), reconcile=False)
    vault_answers = Counter(
        r.status for r in sb.requests if r.plane == "keyvault" and not r.challenge
    )
    assert vault_answers[429] > 0 and vault_answers[200] == 8  # every secret's versions read
    assert report.partial is None and kinds(report)[NOT_AUDITED] == 0
