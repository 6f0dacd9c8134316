"""SDK clients, built once per worker and reused (the Functions docs' advice for warm calls).

In Azure the credential is `DefaultAzureCredential` (managed identity, with an optional client id)
and the SDKs' default transport (azure-core over `requests`); in the sandbox it is the sandbox's
static credential plus its in-process transport. Either way the same SDK clients run: only the
credential and the transport differ. Every ARM, Key Vault and ACR client shares the worker's
`RequestPacer` (`pacing.py`): ARM requests are paced per subscription and 429s waited out.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from shared.adapters.azure.fencing import check_fence
from shared.adapters.azure.pacing import RequestPacer
from shared.domain.time_budgets import (
    BACKOFF_FACTOR,
    BACKOFF_MAX,
    CALL_BUDGET,
    CONNECT_TIMEOUT,
    READ_TIMEOUT,
    RETRY_TOTAL,
)

if TYPE_CHECKING:
    from azure.containerregistry import ContainerRegistryClient
    from azure.core import PipelineClient
    from azure.core.credentials import AccessToken, TokenCredential
    from azure.eventgrid.aio import EventGridPublisherClient
    from azure.keyvault.secrets import SecretClient
    from azure.mgmt.authorization import AuthorizationManagementClient
    from azure.mgmt.containerregistry import ContainerRegistryManagementClient
    from azure.mgmt.keyvault import KeyVaultManagementClient

__all__ = ["GRAPH_ENDPOINT", "AsyncTokenAdapter", "AzureClients", "default_credential"]

GRAPH_ENDPOINT = "https://graph.microsoft.com"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"

# Event Grid redelivers on our transient errors, so the SDK retries a little, not for minutes:
# per-attempt timeouts and a bound on the whole call (shared/domain/time_budgets.py), and the
# write fence checked before every attempt (shared/adapters/azure/fencing.py).
_OPTIONS: dict[str, Any] = {
    "retry_total": RETRY_TOTAL,
    "retry_backoff_factor": BACKOFF_FACTOR,
    "retry_backoff_max": BACKOFF_MAX,
    "timeout": int(CALL_BUDGET.total_seconds()),
    "connection_timeout": CONNECT_TIMEOUT,
    "read_timeout": READ_TIMEOUT,
    "raw_request_hook": check_fence,
}


def default_credential(client_id: str | None) -> TokenCredential:
    """DefaultAzureCredential, pinned to a user-assigned identity when `client_id` is given."""
    from azure.identity import DefaultAzureCredential

    if client_id:
        return DefaultAzureCredential(managed_identity_client_id=client_id)
    return DefaultAzureCredential()


class AsyncTokenAdapter:
    """The worker's one (sync) credential as an `AsyncTokenCredential`, for the async event
    publisher: tokens come from the same credential and its cache."""

    def __init__(self, credential: TokenCredential) -> None:
        self._credential = credential

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        """A token from the sync credential."""
        return self._credential.get_token(*scopes, **kwargs)

    async def close(self) -> None:
        """The sync credential stays open: the other clients share it."""

    async def __aenter__(self) -> AsyncTokenAdapter:
        return self

    async def __aexit__(self, *args: object) -> None:
        return None


class AzureClients:
    """Caches one client per (kind, subscription or vault) for the life of the worker."""

    def __init__(
        self,
        credential: TokenCredential,
        *,
        transport: Any | None = None,
        pacer: RequestPacer | None = None,
        async_transport: Callable[[], Any] | None = None,
    ) -> None:
        """`transport`: an azure-core transport shared by every client (default: the SDK's own);
        `pacer`: the worker's request pacing (default: on the real time, the default reserve);
        `async_transport`: makes the async transport of one event publish (default: azure-core's
        `AsyncioRequestsTransport`, `requests` in an executor, so no aiohttp is needed)."""
        self._credential = credential
        self._transport = transport
        self.pacer = pacer or RequestPacer()
        self._async_transport = async_transport
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str], Any] = {}

    def _options(self) -> dict[str, Any]:
        options: dict[str, Any] = dict(_OPTIONS)
        options["per_retry_policies"] = [self.pacer.policy()]  # one instance per pipeline
        if self._transport is not None:
            options["transport"] = self._transport
        return options

    def _get(self, kind: str, key: str, build: Callable[[], Any]) -> Any:
        with self._lock:
            client = self._cache.get((kind, key))
            if client is None:
                client = build()
                self._cache[(kind, key)] = client
            return client

    def container_registry(self, subscription_id: str) -> ContainerRegistryManagementClient:
        """The ACR management client for a subscription."""
        from azure.mgmt.containerregistry import ContainerRegistryManagementClient

        def build() -> ContainerRegistryManagementClient:
            return ContainerRegistryManagementClient(
                self._credential, subscription_id, **self._options()
            )

        return cast("ContainerRegistryManagementClient", self._get("acr", subscription_id, build))

    def authorization(self, subscription_id: str) -> AuthorizationManagementClient:
        """The authorization client (role assignments and definitions, api 2022-04-01)."""
        from azure.mgmt.authorization import AuthorizationManagementClient

        def build() -> AuthorizationManagementClient:
            return AuthorizationManagementClient(
                self._credential, subscription_id, **self._options()
            )

        return cast("AuthorizationManagementClient", self._get("authz", subscription_id, build))

    def key_vault_management(self, subscription_id: str) -> KeyVaultManagementClient:
        """The Key Vault management client (vault properties and access policies)."""
        from azure.mgmt.keyvault import KeyVaultManagementClient

        def build() -> KeyVaultManagementClient:
            return KeyVaultManagementClient(self._credential, subscription_id, **self._options())

        return cast("KeyVaultManagementClient", self._get("kvmgmt", subscription_id, build))

    def registry_data(self, login_server: str) -> ContainerRegistryClient:
        """The ACR data-plane client of one registry (repository metadata; never image content)."""
        from azure.containerregistry import ContainerRegistryClient

        def build() -> ContainerRegistryClient:
            return ContainerRegistryClient(
                f"https://{login_server}",
                self._credential,
                audience="https://containerregistry.azure.net",
                **self._options(),
            )

        return cast("ContainerRegistryClient", self._get("acrdata", login_server.lower(), build))

    def secrets(self, vault_url: str) -> SecretClient:
        """The Key Vault secrets data-plane client of one vault."""
        from azure.keyvault.secrets import SecretClient

        def build() -> SecretClient:
            return SecretClient(vault_url, self._credential, **self._options())

        return cast("SecretClient", self._get("secrets", vault_url.lower(), build))

    def event_publisher(self, endpoint: str) -> EventGridPublisherClient:
        """A new publisher client of one Event Grid custom topic, for one publish on the running
        event loop (an async client belongs to its loop; close it after use). It sends an Entra
        token for https://eventgrid.azure.net, the SDK's default scope: the topic takes no keys.

        The async client, because azure-eventgrid 4.22's sync `EventGridPublisherClient` drops
        its keyword arguments for a basic (custom) topic: neither the time budgets nor a
        transport would reach it (docs/fidelity.md, the Event Grid publishing rows)."""
        from azure.core.pipeline.transport import AsyncioRequestsTransport
        from azure.eventgrid.aio import EventGridPublisherClient

        options = {k: v for k, v in self._options().items() if k != "transport"}
        build = self._async_transport or AsyncioRequestsTransport
        return EventGridPublisherClient(
            endpoint, AsyncTokenAdapter(self._credential), transport=build(), **options
        )

    def graph(self) -> PipelineClient[Any, Any]:
        """A Microsoft Graph client: azure-core's own pipeline (retries, the bearer token for
        GRAPH_SCOPE, logging), no Graph SDK."""
        from azure.core import PipelineClient
        from azure.core.pipeline import policies

        def build() -> PipelineClient[Any, Any]:
            options = self._options()
            pipeline = [
                policies.HeadersPolicy(),
                policies.UserAgentPolicy(sdk_moniker="cachekeeper-graph"),
                policies.RetryPolicy(
                    **{
                        k: v
                        for k, v in options.items()
                        if k not in ("transport", "per_retry_policies")
                    }
                ),
                policies.BearerTokenCredentialPolicy(self._credential, GRAPH_SCOPE),
                policies.HttpLoggingPolicy(),
            ]
            transport = options.get("transport")
            if transport is None:
                return PipelineClient(GRAPH_ENDPOINT, policies=pipeline)
            return PipelineClient(GRAPH_ENDPOINT, policies=pipeline, transport=transport)

        return cast("PipelineClient[Any, Any]", self._get("graph", GRAPH_ENDPOINT, build))
