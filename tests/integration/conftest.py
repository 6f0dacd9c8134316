"""Integration fixtures: a fresh demo-scenario sandbox per test, and real SDK clients wired to it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from http.server import HTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from azure.keyvault.secrets import SecretClient
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.containerregistry import ContainerRegistryManagementClient
from azure.mgmt.keyvault import KeyVaultManagementClient

from sandbox import Sandbox
from sandbox.server import serve

DEMO = Path(__file__).resolve().parents[2] / "sandbox" / "scenarios" / "demo.yaml"
SUBSCRIPTION = "00000000-0000-0000-0000-000000000001"
RG_CACHE = "rg-cache"
RG_SECRETS = "rg-secrets"


@cache
def _demo_document() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(DEMO.read_text())
    return data


# Azure as it behaves: credentialHealth re-evaluated on ACR's schedule, not on every read
# (Azure/acr#892, #893), and role assignments taking effect after a delay (Azure RBAC
# troubleshooting: up to 10 minutes). The integration tier runs with these unless a test is
# marked `instant_azure`; docs/fidelity.md, "Health and RBAC timing".
TIER_TIMING: dict[str, float] = {"health_refresh_seconds": 60.0, "rbac_delay_seconds": 120.0}
INSTANT: dict[str, float] = {"health_refresh_seconds": 0.0, "rbac_delay_seconds": 0.0}


@pytest.fixture
def sandbox_timing(request: pytest.FixtureRequest) -> dict[str, float]:
    """The timing options of this test's sandboxes: TIER_TIMING, or INSTANT when the test is
    marked `instant_azure` (pass them to any Sandbox a test builds itself)."""
    return dict(INSTANT if request.node.get_closest_marker("instant_azure") else TIER_TIMING)


@pytest.fixture
def sandbox(sandbox_timing: dict[str, float]) -> Sandbox:
    """A fresh sandbox loaded with sandbox/scenarios/demo.yaml (small pages: 2 per ARM list),
    with the tier's timing (`sandbox_timing`)."""
    return Sandbox(_demo_document(), page_size=2, **sandbox_timing)


@dataclass
class SdkClients:
    """The four real SDK clients the product uses, all wired to one sandbox."""

    sandbox: Sandbox
    acr: ContainerRegistryManagementClient
    authorization: AuthorizationManagementClient
    keyvault: KeyVaultManagementClient
    secrets: SecretClient  # for kv-cache-rbac
    _extra: list[SecretClient] = field(default_factory=list)

    def secret_client(self, vault: str) -> SecretClient:
        """A SecretClient for another vault of the sandbox."""
        client = SecretClient(
            f"https://{vault}.vault.azure.net",
            self.sandbox.credential(),
            transport=self.sandbox.transport(),
        )
        self._extra.append(client)
        return client

    def close(self) -> None:
        """Close every client."""
        for client in (self.acr, self.authorization, self.keyvault, self.secrets, *self._extra):
            client.close()


def make_clients(sb: Sandbox, **client_kwargs: Any) -> SdkClients:
    """Build the four SDK clients against `sb` (extra kwargs go to every client)."""
    credential = sb.credential()
    return SdkClients(
        sandbox=sb,
        acr=ContainerRegistryManagementClient(
            credential, SUBSCRIPTION, transport=sb.transport(), **client_kwargs
        ),
        authorization=AuthorizationManagementClient(
            credential, SUBSCRIPTION, transport=sb.transport(), **client_kwargs
        ),
        keyvault=KeyVaultManagementClient(
            credential, SUBSCRIPTION, transport=sb.transport(), **client_kwargs
        ),
        secrets=SecretClient(
            "https://kv-cache-rbac.vault.azure.net",
            credential,
            transport=sb.transport(),
            **client_kwargs,
        ),
    )


@pytest.fixture
def sdk_clients(sandbox: Sandbox) -> Iterator[SdkClients]:
    """Real SDK clients (ACR, Authorization, Key Vault mgmt, SecretClient) over the sandbox."""
    clients = make_clients(sandbox)
    yield clients
    clients.close()


@contextmanager
def served(http: HTTPServer) -> Iterator[str]:
    """`http` serving on a thread of its own; its base URL, shut down afterwards."""
    thread = threading.Thread(target=http.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{http.server_address[1]}"
    finally:
        http.shutdown()
        http.server_close()


@pytest.fixture
def server(sandbox: Sandbox) -> Iterator[str]:
    """The test's sandbox served over HTTP by `python -m sandbox`'s server."""
    with served(serve(sandbox, 0)) as url:
        yield url
