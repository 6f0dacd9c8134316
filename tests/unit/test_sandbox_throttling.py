"""The sandbox's request limits (sandbox/throttling.py), request by request on its clock."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox import Sandbox, ScenarioError
from sandbox.wire import Request, Response

SUB = "00000000-0000-0000-0000-000000000001"
REGISTRIES = f"https://management.azure.com/subscriptions/{SUB}/providers/Microsoft.ContainerRegistry/registries?api-version=2025-11-01"
VAULT = {"name": "kv-one", "resourceGroup": "rg", "rbac": True,
         "secrets": [{"name": "s1", "versions": [{"created": "-1d"}]}]}  # fmt: skip
VERSIONS = "https://kv-one.vault.azure.net/secrets/s1/versions?api-version=2025-07-01"


def sandbox(**options: Any) -> Sandbox:
    sb = Sandbox({"vaults": [VAULT]}, throttling=True, **options)
    sb.clock.set("2026-06-01T00:00:00Z")
    return sb


def send(sb: Sandbox, url: str, method: str = "GET", caller: str = "one") -> Response:
    """`caller`: the bearer token, which stands for the principal ("" sends none)."""
    headers = {"authorization": f"Bearer {caller}"} if caller else {}
    return sb.handle(Request.from_url(method, url, headers))


def test_off_by_default_no_header_no_throttling() -> None:
    sb = Sandbox({})
    for _ in range(300):
        answer = send(sb, REGISTRIES)
        assert answer.status == 200
    assert not any(k.startswith("x-ms-ratelimit") for k in answer.headers)


def test_reads_drain_the_bucket_and_the_empty_bucket_answers_429_with_retry_after() -> None:
    sb = sandbox()
    seen = [int(send(sb, REGISTRIES).headers["x-ms-ratelimit-remaining-subscription-reads"])
            for _ in range(250)]  # fmt: skip
    assert seen == list(range(249, -1, -1))
    refused = send(sb, REGISTRIES)
    assert refused.status == 429 and refused.headers["Retry-After"] == "1"
    assert refused.json()["error"]["code"] == "SubscriptionRequestsThrottled"
    assert sb.requests[-1].fault == "throttled"
    sb.clock.advance(0.04)  # one token back at 25 per second
    assert send(sb, REGISTRIES).status == 200
    assert send(sb, REGISTRIES).status == 429  # the refused one cost nothing, this one finds 0
    assert sb.throttle.lowest(SUB) == 0


def test_buckets_are_per_operation_type_principal_and_subscription() -> None:
    sb = sandbox(arm_read_bucket=1)
    assert send(sb, REGISTRIES).status == 200
    assert send(sb, REGISTRIES).status == 429
    assert send(sb, REGISTRIES, caller="two").status == 200  # another principal
    other = REGISTRIES.replace(SUB, "00000000-0000-0000-0000-000000000002")
    assert send(sb, other).status == 200
    write = send(sb, REGISTRIES.replace("registries?", "registries/r1/listCredentials?"), "POST")
    assert "x-ms-ratelimit-remaining-subscription-writes" in write.headers
    assert write.headers["x-ms-ratelimit-remaining-subscription-writes"] == "199"
    delete = send(sb, REGISTRIES.replace("registries?", "registries/nope?"), "DELETE")
    assert delete.headers["x-ms-ratelimit-remaining-subscription-deletes"] == "199"
    tenant = send(
        sb,
        "https://management.azure.com/providers/Microsoft.Authorization/operations?api-version=2022-04-01",
    )
    assert tenant.headers["x-ms-ratelimit-remaining-tenant-reads"] == "0"  # its own bucket of 1


def test_unauthenticated_requests_are_not_metered() -> None:
    sb = sandbox(arm_read_bucket=1)
    assert send(sb, REGISTRIES, caller="").status == 401
    assert send(sb, REGISTRIES).status == 200


def test_another_tool_of_the_principal_spends_the_same_bucket() -> None:
    sb = sandbox()
    assert sb.throttle.spend(SUB, 245, principal="one", now=sb.clock.now()) == 5
    assert send(sb, REGISTRIES).headers["x-ms-ratelimit-remaining-subscription-reads"] == "4"
    sb.clock.advance(3600)
    assert send(sb, REGISTRIES).headers["x-ms-ratelimit-remaining-subscription-reads"] == "249"


@pytest.mark.parametrize("retry_after", [None, 2])
def test_key_vault_counts_each_vault_over_ten_seconds(retry_after: int | None) -> None:
    sb = sandbox(kv_transactions_per_10s=3, kv_throttle_retry_after=retry_after)
    assert [send(sb, VERSIONS).status for _ in range(4)] == [200, 200, 200, 429]
    refused = sb.log.all()[-1]
    assert refused.fault == "throttled"
    answer = send(sb, VERSIONS)
    assert answer.json()["error"]["code"] == "Throttled"
    assert answer.headers.get("Retry-After") == (None if retry_after is None else "10")
    sb.clock.advance(10)
    assert send(sb, VERSIONS).status == 200


def test_creating_secrets_has_its_own_smaller_limit() -> None:
    sb = sandbox(kv_create_secrets_per_10s=1)
    put = "https://kv-one.vault.azure.net/secrets/new?api-version=2025-07-01"
    body = b'{"value": "x"}'
    headers = {"authorization": "Bearer one", "content-type": "application/json"}
    first = sb.handle(Request.from_url("PUT", put, headers, body))
    second = sb.handle(Request.from_url("PUT", put, headers, body))
    assert (first.status, second.status) == (200, 429)
    assert send(sb, VERSIONS).status == 200  # other transactions still go through


def test_a_scenario_sets_the_limits_and_refuses_nonsense() -> None:
    sb = Sandbox({"throttling": {"enabled": True, "armReadBucket": 2, "armReadRefill": 0.5}})
    assert (sb.options.throttling, sb.options.arm_read_bucket, sb.options.arm_read_refill) == (
        True, 2, 0.5)  # fmt: skip
    for bad in (
        {"enabled": "yes"},
        {"armReadBucket": 0},
        {"burst": 1},
        {"kvThrottleRetryAfter": True},
    ):
        with pytest.raises(ScenarioError):
            Sandbox({"throttling": bad})


def test_the_control_surface_turns_throttling_on() -> None:
    from sandbox.control import handle_control

    sb = Sandbox({})
    body = b'{"throttling": {"enabled": true, "armReadBucket": 1}}'
    status, _, _ = handle_control(sb, "POST", "/_sandbox/options", {}, body)
    assert status == 200 and sb.options.throttling and sb.options.arm_read_bucket == 1
    assert [send(sb, REGISTRIES).status for _ in range(2)] == [200, 429]
    bad, _, _ = handle_control(sb, "POST", "/_sandbox/options", {}, b'{"throttling": {"x": 1}}')
    assert bad == 400
