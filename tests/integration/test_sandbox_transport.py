"""The in-process transport returns azure-core's own response types and is safe under concurrency."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from azure.core.pipeline.transport import HttpRequest as LegacyHttpRequest
from azure.core.pipeline.transport import RequestsTransportResponse
from azure.core.rest import HttpRequest
from azure.core.rest._requests_basic import RestRequestsTransportResponse
from azure.mgmt.containerregistry.models import CacheRule

from sandbox import Sandbox, StaticTokenCredential
from tests.integration.conftest import RG_CACHE, SUBSCRIPTION, SdkClients

REGISTRY_URL = (
    f"https://management.azure.com/subscriptions/{SUBSCRIPTION}/resourceGroups/{RG_CACHE}"
    "/providers/Microsoft.ContainerRegistry/registries/contosocache?api-version=2025-11-01"
)


def test_legacy_and_rest_requests_get_requests_transport_responses(sandbox: Sandbox) -> None:
    headers = {"Authorization": "Bearer t"}
    with sandbox.transport() as transport:
        legacy = transport.send(LegacyHttpRequest("GET", REGISTRY_URL, headers=headers))
        rest = transport.send(HttpRequest("GET", REGISTRY_URL, headers=headers))
        rest.read()
        streamed = transport.send(HttpRequest("GET", REGISTRY_URL, headers=headers), stream=True)
        chunks = b"".join(streamed.iter_bytes())
    assert isinstance(legacy, RequestsTransportResponse)
    assert legacy.status_code == 200 and '"contosocache"' in legacy.text()
    assert isinstance(rest, RestRequestsTransportResponse)
    assert rest.json()["name"] == "contosocache"
    assert chunks == rest.content


def test_credential_returns_a_token_both_ways() -> None:
    credential = StaticTokenCredential()
    assert credential.get_token("https://management.azure.com/.default").token
    info = credential.get_token_info("https://vault.azure.net/.default")
    assert info.token and info.expires_on > time.time()


def test_concurrent_creates_all_land(sdk_clients: SdkClients, sandbox: Sandbox) -> None:
    def create(index: int) -> bool:
        rule = CacheRule(
            source_repository=f"mcr.microsoft.com/img{index}", target_repository=f"mcr/img{index}"
        )
        poller = sdk_clients.acr.cache_rules.begin_create(
            RG_CACHE, "fabrikamcache", f"mcr-img-{index}", rule
        )
        return bool(poller.result().provisioning_state == "Succeeded")

    with ThreadPoolExecutor(max_workers=8) as pool:
        states = list(pool.map(create, range(16)))

    assert states == [True] * 16
    assert len(sandbox.registry("fabrikamcache").cache_rules) == 18
    assert sandbox.write_count("/cacheRules/mcr-img-") == 16
    assert [r.seq for r in sandbox.requests] == list(range(1, len(sandbox.requests) + 1))


def test_latency_is_injected_without_serialising_requests(
    sdk_clients: SdkClients, sandbox: Sandbox
) -> None:
    sandbox.faults.latency(100, pattern="/registries/")
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=6) as pool:
        names = list(
            pool.map(
                lambda _: sdk_clients.acr.registries.get(RG_CACHE, "contosocache").name, range(6)
            )
        )
    elapsed = time.perf_counter() - started
    assert names == ["contosocache"] * 6
    assert 0.1 <= elapsed < 0.45  # six 100 ms calls overlap instead of taking 600 ms
