"""Microsoft.Insights/diagnosticSettings at a registry's scope (api-version 2021-05-01-preview).

List (`{"value": [...]}`, never paged), get, create or replace, delete. Stored as given: ARM's
validation of a setting's destinations and categories is not emulated (the product only reads).
The operations' error body is the spec's flat `ErrorResponse` (`code`, `message`); a registry
that does not exist answers in ARM's `{"error": {...}}` envelope, as the other routes do.
"""

from __future__ import annotations

import json
import re
from typing import Any

from sandbox.arm_acr import Handler, registry_of
from sandbox.env import Env
from sandbox.errors import bad_request
from sandbox.state import Registry
from sandbox.wire import Request, Response, empty_response, json_response

API_VERSIONS = frozenset({"2021-05-01-preview"})
_REG = (
    r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)"
    r"/providers/Microsoft\.ContainerRegistry/registries/(?P<reg>[^/]+)"
)
_SETTINGS = _REG + r"/providers/Microsoft\.Insights/diagnosticSettings"


def setting_json(registry: Registry, name: str, properties: dict[str, Any]) -> dict[str, Any]:
    """A `DiagnosticSettingsResource` as ARM returns it."""
    return {
        "id": f"{registry.id}/providers/microsoft.insights/diagnosticSettings/{name}",
        "type": "Microsoft.Insights/diagnosticSettings",
        "name": name,
        "properties": json.loads(json.dumps(properties)),  # a copy the caller cannot change
    }


def list_settings(env: Env, req: Request, p: dict[str, str]) -> Response:
    """DiagnosticSettings_List: every setting of the resource, in one answer."""
    registry = registry_of(env, p)
    items = sorted(registry.diagnostic_settings.values(), key=lambda item: item[0].lower())
    return json_response(200, {"value": [setting_json(registry, n, props) for n, props in items]})


def one_setting(env: Env, req: Request, p: dict[str, str]) -> Response:
    """DiagnosticSettings_Get / _CreateOrUpdate / _Delete."""
    registry = registry_of(env, p)
    key = p["name"].lower()
    if req.method == "GET":
        if key not in registry.diagnostic_settings:  # the spec's ErrorResponse: code, message
            message = f"The diagnostic setting '{p['name']}' doesn't exist."
            return json_response(404, {"code": "ResourceNotFound", "message": message})
        return json_response(200, setting_json(registry, *registry.diagnostic_settings[key]))
    if req.method == "DELETE":
        existed = registry.diagnostic_settings.pop(key, None) is not None
        return empty_response(200 if existed else 204)
    try:
        body = json.loads(req.body or b"{}")
    except ValueError as err:
        raise bad_request(
            "InvalidRequestContent", f"The request content is not JSON: {err}"
        ) from err
    if not isinstance(body, dict) or not isinstance(body.get("properties"), dict):
        raise bad_request("InvalidRequestContent", "The request content has no 'properties'.")
    name = registry.diagnostic_settings.get(key, (p["name"], {}))[0]
    registry.diagnostic_settings[key] = (name, dict(body["properties"]))
    return json_response(200, setting_json(registry, *registry.diagnostic_settings[key]))


ROUTES: list[tuple[set[str], re.Pattern[str], Handler]] = [
    ({"GET"}, re.compile(_SETTINGS + "$", re.I), list_settings),
    ({"GET", "PUT", "DELETE"}, re.compile(_SETTINGS + r"/(?P<name>[^/]+)$", re.I), one_setting),
]
