"""Registries found through Azure Resource Graph (the RegistryDiscovery port).

`POST /providers/Microsoft.ResourceGraph/resources?api-version=2022-10-01` with the QueryRequest
bodies of `shared/domain/discovery.py`, each followed by its `$skipToken` pages. The requests go
through the ACR management client's public `send_request` (the same credential, pipeline and
retries as every other ARM call), as the Monitor adapter does: `azure-mgmt-resourcegraph`, whose
`ResourceGraphClient.resources(QueryRequest)` sends the same request, is not among this
project's dependencies yet. The caller needs `Microsoft.ResourceGraph/resources/read` (any role
with read, e.g. Reader) and sees only the registries it may read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.adapters.azure.clients import AzureClients
from shared.adapters.azure.errors import translate_errors
from shared.domain.discovery import API_VERSION, RegistryScope, graph_requests, registries_from_rows
from shared.domain.ids import ResourceId
from shared.errors import UpstreamUnavailableError

__all__ = ["ResourceGraphDiscovery"]

_PATH = "/providers/Microsoft.ResourceGraph/resources"
_PLACEHOLDER_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"  # the path names none
MAX_PAGES = 100  # 100,000 registries: far past any fleet; a loop in the paging stops here


class ResourceGraphDiscovery:
    """Implements the RegistryDiscovery port over ARM."""

    def __init__(self, clients: AzureClients) -> None:
        self._clients = clients

    def _page(self, body: Mapping[str, Any], subscription: str) -> Mapping[str, Any]:
        from azure.core.rest import HttpRequest

        client = self._clients.container_registry(subscription)
        request = HttpRequest("POST", _PATH, params={"api-version": API_VERSION}, json=dict(body))
        what = "querying Azure Resource Graph for registries"
        with translate_errors(what):
            response = client.send_request(request)
            response.raise_for_status()
        try:
            answer = response.json()
        except ValueError as exc:
            raise UpstreamUnavailableError(f"{what}: unreadable answer") from exc
        if not isinstance(answer, Mapping) or not isinstance(answer.get("data"), list):
            raise UpstreamUnavailableError(f"{what}: the answer holds no rows")
        return answer

    def registries(self, scope: RegistryScope) -> list[ResourceId]:
        subscription = next(iter(scope.subscriptions), None) or next(
            (s for s, _ in scope.resource_groups), _PLACEHOLDER_SUBSCRIPTION
        )
        rows: list[Mapping[str, Any]] = []
        for first in graph_requests(scope):
            body: dict[str, Any] = first
            for _ in range(MAX_PAGES):
                answer = self._page(body, subscription)
                rows.extend(r for r in answer["data"] if isinstance(r, Mapping))
                token = answer.get("$skipToken")
                if not isinstance(token, str) or not token:
                    break
                body = first | {"options": first["options"] | {"$skipToken": token}}
        found = registries_from_rows(rows)
        return sorted(found, key=lambda r: str(r).lower())
