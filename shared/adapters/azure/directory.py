"""Directory port over Microsoft Graph v1.0 (`GET /servicePrincipals/{id}`), azure-core only.

The app reads one service principal by object id, with `$select` of the fields the pull rows
need; that call needs the Graph application permission `Application.Read.All` (docs/deploy.md),
and only when DIRECTORY_LOOKUP is on. Graph's errors carry the OData `error.code`
(`Request_ResourceNotFound`, `Authorization_RequestDenied`), kept in the message.
"""

from __future__ import annotations

import re
from typing import Any

from shared.adapters.azure.clients import GRAPH_ENDPOINT, AzureClients
from shared.adapters.azure.errors import translate_errors
from shared.domain.directory import SERVICE_PRINCIPAL_SELECT, ServicePrincipal
from shared.errors import InvalidInputError, UpstreamUnavailableError

__all__ = ["GraphDirectory"]

_GUID = re.compile(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}", re.ASCII)


class GraphDirectory:
    """Implements the Directory port."""

    def __init__(self, clients: AzureClients) -> None:
        self._clients = clients

    def service_principal(self, object_id: str) -> ServicePrincipal:
        from azure.core.exceptions import HttpResponseError
        from azure.core.rest import HttpRequest

        if not _GUID.fullmatch(object_id):
            raise InvalidInputError(f"object id {object_id!r} is not a GUID")
        guid = object_id.lower()
        request = HttpRequest(
            "GET",
            f"{GRAPH_ENDPOINT}/v1.0/servicePrincipals/{guid}",
            params={"$select": SERVICE_PRINCIPAL_SELECT},
            headers={"Accept": "application/json"},
        )
        what = f"reading service principal {guid} from Microsoft Graph"
        client = self._clients.graph()
        with translate_errors(what):
            response = client.send_request(request)
            if response.status_code != 200:
                raise HttpResponseError(response=response)
            body: Any = response.json()
        try:
            if not isinstance(body, dict):
                raise ValueError("the answer is not a JSON object")
            principal = ServicePrincipal.from_graph(body)
        except ValueError as exc:
            raise UpstreamUnavailableError(f"{what}: unreadable answer ({exc})") from exc
        if principal.id != guid:
            raise UpstreamUnavailableError(f"{what}: the answer is about {principal.id}")
        return principal
