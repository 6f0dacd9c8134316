"""The client-side estimate of ARM's request budget (shared/domain/request_budget.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.domain.request_budget import (
    ARM_LIMITS,
    BudgetEstimate,
    Knowledge,
    arm_operation,
    keyvault_backoff,
    remaining_header,
    subscription_of,
)
from shared.errors import ConfigurationError
from shared.settings import Settings

T0 = datetime(2026, 6, 1, tzinfo=UTC)
READS = ARM_LIMITS["reads"]


def later(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def tracked(remaining: int, *, reserve: int = 50) -> BudgetEstimate:
    estimate = BudgetEstimate(READS, reserve)
    estimate.sent(T0)
    estimate.answered(T0, remaining)
    return estimate


def test_the_documented_buckets() -> None:
    assert (READS.capacity, READS.refill_per_second) == (250, 25.0)
    assert (ARM_LIMITS["writes"].capacity, ARM_LIMITS["writes"].refill_per_second) == (200, 10.0)
    assert (ARM_LIMITS["deletes"].capacity, ARM_LIMITS["deletes"].refill_per_second) == (200, 10.0)


@pytest.mark.parametrize(
    ("method", "operation"),
    [("GET", "reads"), ("head", "reads"), ("PUT", "writes"), ("PATCH", "writes"),
     ("POST", "writes"), ("DELETE", "deletes")],
)  # fmt: skip
def test_operation_types(method: str, operation: str) -> None:
    assert arm_operation(method) == operation


def test_headers_and_subscriptions() -> None:
    assert remaining_header("reads") == "x-ms-ratelimit-remaining-subscription-reads"
    assert remaining_header("writes", tenant=True) == "x-ms-ratelimit-remaining-tenant-writes"
    assert subscription_of("/subscriptions/ABC/resourceGroups/rg") == "abc"
    assert subscription_of("/providers/Microsoft.Authorization/roleDefinitions") is None


def test_until_the_first_answer_one_request_is_in_flight() -> None:
    estimate = BudgetEstimate(READS, 50)
    assert estimate.wait_before_send(T0) == 0.0
    estimate.sent(T0)
    assert estimate.wait_before_send(T0) is None  # wait for the answer
    estimate.answered(T0, 120)
    assert estimate.knowledge is Knowledge.TRACKED and estimate.tokens == 120


def test_a_request_that_got_no_answer_teaches_nothing() -> None:
    estimate = BudgetEstimate(READS, 50)
    estimate.sent(T0)
    estimate.failed(T0)
    assert estimate.knowledge is Knowledge.UNKNOWN and estimate.in_flight == 0
    assert estimate.wait_before_send(T0) == 0.0


def test_answers_without_the_header_leave_the_bucket_unpaced() -> None:
    estimate = BudgetEstimate(READS, 50)
    estimate.sent(T0)
    estimate.answered(T0, None)
    assert estimate.knowledge is Knowledge.BLIND
    for _ in range(1000):
        assert estimate.wait_before_send(T0) == 0.0
        estimate.sent(T0)


def test_a_send_that_would_cut_into_the_reserve_waits_for_the_refill() -> None:
    estimate = tracked(51)
    assert estimate.wait_before_send(T0) == 0.0
    estimate.sent(T0)  # 50 left: the next one would leave 49
    assert estimate.wait_before_send(T0) == pytest.approx(1 / 25)
    assert estimate.wait_before_send(later(1 / 25)) == 0.0


def test_requests_in_flight_are_assumed_not_counted_yet() -> None:
    estimate = tracked(200)
    for _ in range(5):
        estimate.sent(T0)
    estimate.answered(T0, 199)  # four still in flight
    assert estimate.tokens == 195


def test_the_estimate_follows_a_lower_header_and_refills_to_the_capacity_only() -> None:
    estimate = tracked(200)
    estimate.sent(T0)
    estimate.answered(T0, 20)  # another tool of the principal spent most of it
    assert estimate.tokens == 20
    assert estimate.wait_before_send(T0) == pytest.approx(31 / 25)
    estimate.sent(later(60))
    assert estimate.tokens == READS.capacity - 1


def test_a_429_holds_the_bucket_for_its_retry_after() -> None:
    estimate = tracked(100)
    until = estimate.throttled(T0, 7)
    assert until == later(7) and estimate.tokens == 0
    assert estimate.wait_before_send(later(2)) == pytest.approx(5)
    assert estimate.throttled(later(1), 2) == later(7)  # a shorter one does not shorten it


def test_key_vault_backoff_follows_its_guidance() -> None:
    assert [keyvault_backoff(n) for n in range(7)] == [1, 2, 4, 8, 16, 16, 16]


def test_arm_read_reserve_setting() -> None:
    registry = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/r1"
    base = {"MANAGED_REGISTRIES": registry, "CACHEKEEPER_MODE": "sandbox"}
    assert Settings.from_env(base).arm_read_reserve == 50
    assert Settings.from_env(base | {"ARM_READ_RESERVE": "0"}).arm_read_reserve == 0
    for bad in ("-1", "201", "many"):
        with pytest.raises(ConfigurationError, match="ARM_READ_RESERVE"):
            Settings.from_env(base | {"ARM_READ_RESERVE": bad})


def test_the_audit_stops_waiting_early_enough_to_finish_its_last_call_and_report() -> None:
    from shared.domain.time_budgets import AUDIT_WAIT_BUDGET, CALL_BUDGET, RUN_TIMEOUT

    assert timedelta(0) < AUDIT_WAIT_BUDGET
    assert AUDIT_WAIT_BUDGET + CALL_BUDGET <= RUN_TIMEOUT
