"""Microsoft Graph v1.0, as far as cachekeeper reads it: `GET /v1.0/servicePrincipals/{id}`.

The directory holds the scenario's `servicePrincipals` (id, appId, displayName,
servicePrincipalNames, servicePrincipalType). Answers, as Graph gives them (docs/fidelity.md,
"Directory"): 200 with the object (only the `$select`ed properties, and `@odata.context`); 404
`Request_ResourceNotFound` for an id with no service principal; 400 `Request_BadRequest` for an
id that is not a GUID; 403 `Authorization_RequestDenied` when the option `directory_readable` is
off (the app was given no Graph application permission); 401 `InvalidAuthenticationToken`
without a bearer token.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from typing import Any

from sandbox.env import Env
from sandbox.state import State
from sandbox.wire import Request, Response, json_response

__all__ = ["GRAPH_HOST", "handle_graph", "load_service_principals"]

GRAPH_HOST = "graph.microsoft.com"
_PATH = re.compile(r"^/v1\.0/serviceprincipals/(?P<id>[^/]+)$", re.IGNORECASE)
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_PROPERTIES = ("id", "appId", "displayName", "servicePrincipalNames", "servicePrincipalType")
_TYPES = ("Application", "ManagedIdentity", "Legacy", "SocialIdp")


def load_service_principals(state: State, items: Iterable[dict[str, Any]]) -> None:
    """Put the scenario's service principals into the directory (ValueError when one is bad)."""
    for item in items:
        object_id = str(item["id"]).lower()
        kind = str(item.get("servicePrincipalType", "ManagedIdentity"))
        if not _GUID.match(object_id) or kind not in _TYPES:
            raise ValueError(f"service principal {item!r}: a GUID id and a known type are needed")
        app_id = str(item.get("appId") or uuid.uuid5(uuid.NAMESPACE_OID, object_id))
        state.service_principals[object_id] = {
            "id": object_id,
            "appId": app_id,
            "displayName": str(item.get("displayName") or ""),
            "servicePrincipalNames": [
                str(n) for n in item.get("servicePrincipalNames") or [app_id]
            ],
            "servicePrincipalType": kind,
        }


def _error(status: int, code: str, message: str) -> Response:
    inner = {"date": "2026-01-01T00:00:00", "request-id": str(uuid.uuid4())}
    return json_response(status, {"error": {"code": code, "message": message, "innerError": inner}})


def handle_graph(env: Env, req: Request) -> Response:
    """Answer one Graph request."""
    if not req.headers.get("authorization", "").lower().startswith("bearer "):
        return _error(401, "InvalidAuthenticationToken", "Access token is empty.")
    match = _PATH.match(req.path)
    if req.method != "GET" or match is None:
        return _error(400, "Request_BadRequest", f"{req.method} {req.path} is not emulated.")
    object_id = match["id"].lower()
    if not _GUID.match(object_id):
        return _error(400, "Request_BadRequest", f"Invalid object identifier '{match['id']}'.")
    if not env.options.directory_readable:
        return _error(403, "Authorization_RequestDenied",
                      "Insufficient privileges to complete the operation.")  # fmt: skip
    found = env.state.service_principals.get(object_id)
    if found is None:
        return _error(
            404, "Request_ResourceNotFound",
            f"Resource '{object_id}' does not exist or one of its queried reference-property "
            "objects are not present.",
        )  # fmt: skip
    wanted = [p.strip() for p in req.query.get("$select", "").split(",") if p.strip()]
    selected = [p for p in _PROPERTIES if p in wanted] or list(_PROPERTIES)
    context = f"https://{GRAPH_HOST}/v1.0/$metadata#servicePrincipals({','.join(selected)})/$entity"
    return json_response(200, {"@odata.context": context} | {p: found[p] for p in selected})
