"""The product's HTTP transport (azure-core pipeline over a urllib3 pool) under the real SDK
clients, against `python -m sandbox`'s HTTP server: lists, paging, long-running writes, retries
on throttling, errors mapped to azure-core's exception types, and streamed bodies."""

from __future__ import annotations

import socket

import pytest
from azure.containerregistry import ContainerRegistryClient
from azure.core.exceptions import (
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseTimeoutError,
)
from azure.core.rest import HttpRequest
from azure.keyvault.secrets import SecretClient
from azure.mgmt.containerregistry import ContainerRegistryManagementClient
from azure.mgmt.containerregistry.models import CacheRule

from sandbox import ForwardingPoolManager, Sandbox
from shared.adapters.azure.transport import (
    PooledResponse,
    PooledTransport,
    default_transport,
    environment_configures_http,
)
from tests.integration.conftest import RG_CACHE, SUBSCRIPTION

REGISTRY = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{RG_CACHE}/providers/Microsoft.ContainerRegistry/registries/contosocache"


def acr(sandbox: Sandbox, transport: PooledTransport) -> ContainerRegistryManagementClient:
    return ContainerRegistryManagementClient(
        sandbox.credential(), SUBSCRIPTION, transport=transport, retry_backoff_factor=0.01
    )


def test_sdk_clients_list_page_write_and_retry_over_the_pooled_transport(
    sandbox: Sandbox, server: str
) -> None:
    transport = PooledTransport(ForwardingPoolManager(server))
    client = acr(sandbox, transport)
    assert len(list(client.cache_rules.list(RG_CACHE, "contosocache"))) == 4  # pages of 2
    created = client.cache_rules.begin_create(
        RG_CACHE,
        "contosocache",
        "pooled-nginx",
        CacheRule(source_repository="docker.io/library/nginx", target_repository="pooled/nginx",
                  credential_set_resource_id=f"{REGISTRY}/credentialSets/dockerhub"),
        polling_interval=0,
    ).result()  # fmt: skip
    assert created.provisioning_state == "Succeeded"
    assert client.cache_rules.get(RG_CACHE, "contosocache", "pooled-nginx").target_repository == (
        "pooled/nginx"
    )
    sandbox.faults.script("/registries/contosocache$", "429", count=1)
    assert client.registries.get(RG_CACHE, "contosocache").name == "contosocache"
    assert [r.status for r in sandbox.requests_matching("/registries/contosocache$")] == [429, 200]
    with pytest.raises(ResourceNotFoundError):
        client.cache_rules.get(RG_CACHE, "contosocache", "no-such-rule")
    secrets = SecretClient(
        "https://kv-cache-rbac.vault.azure.net", sandbox.credential(), transport=transport
    )
    assert len(list(secrets.list_properties_of_secret_versions("dockerhub-password"))) == 2


def test_the_registry_data_plane_exchanges_its_token_as_a_form(
    sandbox: Sandbox, server: str
) -> None:
    data = ContainerRegistryClient(
        "https://contosocache.azurecr.io",
        sandbox.credential(),
        audience="https://containerregistry.azure.net",
        transport=PooledTransport(ForwardingPoolManager(server)),
    )
    assert "mcr/azure-cli" in set(data.list_repository_names())  # after the oauth2 exchanges
    exchanges = sandbox.requests_matching("/oauth2/")
    assert exchanges and all(r.status == 200 for r in exchanges)


def test_a_streamed_body_is_the_same_bytes_and_the_connection_is_reused(
    sandbox: Sandbox, server: str
) -> None:
    pool = ForwardingPoolManager(server, maxsize=1)
    client = acr(sandbox, PooledTransport(pool))
    request = HttpRequest(
        "GET", f"https://management.azure.com{REGISTRY}/cacheRules?api-version=2025-11-01"
    )
    whole = client.send_request(request)
    streamed = client.send_request(request, stream=True)
    assert isinstance(streamed, PooledResponse)
    assert b"".join(streamed.iter_bytes()) == whole.content
    assert whole.json()["value"] and whole.headers["content-type"].startswith("application/json")
    for _ in range(3):
        client.send_request(request).raise_for_status()
    connections = pool.connection_from_url(server)
    assert connections.num_connections == 1  # keep-alive: one socket served every call


def test_a_refused_connection_is_a_request_error(sandbox: Sandbox) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = ContainerRegistryManagementClient(
        sandbox.credential(), SUBSCRIPTION, retry_total=0,
        transport=PooledTransport(ForwardingPoolManager(f"http://127.0.0.1:{port}")),
    )  # fmt: skip
    with pytest.raises(ServiceRequestError):
        client.registries.get(RG_CACHE, "contosocache")


def test_a_slow_answer_is_a_response_timeout(sandbox: Sandbox, server: str) -> None:
    sandbox.faults.latency(1000, pattern="/registries/contosocache$")
    client = ContainerRegistryManagementClient(
        sandbox.credential(), SUBSCRIPTION, retry_total=0,
        transport=PooledTransport(ForwardingPoolManager(server), read_timeout=0.2),
    )  # fmt: skip
    with pytest.raises(ServiceResponseTimeoutError):
        client.registries.get(RG_CACHE, "contosocache")


@pytest.mark.parametrize(
    ("environ", "configured"),
    [
        ({}, False),
        ({"PATH": "/usr/bin"}, False),
        ({"HTTPS_PROXY": "http://proxy:3128"}, True),
        ({"https_proxy": "http://proxy:3128"}, True),
        ({"REQUESTS_CA_BUNDLE": "/etc/ssl/corp.pem"}, True),
    ],
)
def test_a_proxy_or_ca_bundle_in_the_environment_keeps_the_sdk_transport(
    environ: dict[str, str], configured: bool
) -> None:
    assert environment_configures_http(environ) is configured
    chosen = default_transport(environ)
    assert (chosen is None) is configured
    assert configured or isinstance(chosen, PooledTransport)
