"""HTTP helpers shared by the admin blueprints: JSON bodies in, JSON out, the App-role check."""

from __future__ import annotations

import json
from typing import Any

import azure.functions as func

from shared.errors import (
    InvalidInputError,
    PayloadTooLargeError,
    RoleDeniedError,
    UnsupportedMediaTypeError,
)

__all__ = [
    "FUNCTION_KEY_CALLER",
    "MAX_BODY_BYTES",
    "WRITE_METHODS",
    "caller_name",
    "flag",
    "json_response",
    "principal_roles",
    "read_document",
    "read_json",
    "read_object",
    "require_app_role",
]

MAX_BODY_BYTES = 256 * 1024
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PRINCIPAL_HEADER = "x-ms-client-principal"
PRINCIPAL_NAME_HEADER = "x-ms-client-principal-name"
FUNCTION_KEY_CALLER = "function key"  # who made a change when no platform-injected principal
_YAML_TYPES = {"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"}
_ROLE_CLAIMS = {"roles", "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"}


def json_response(body: Any, *, status_code: int = 200) -> func.HttpResponse:
    """A successful JSON response with a stable key order. Errors are problem+json, always: they
    are raised (or built with `functions._problems.problem`), never answered through here."""
    if not 200 <= status_code < 400:
        raise ValueError(f"status {status_code} is an error: answer it as problem+json")
    return func.HttpResponse(
        json.dumps(body, sort_keys=True, default=str),
        status_code=status_code,
        mimetype="application/json",
    )


def read_document(req: func.HttpRequest, *, max_bytes: int = MAX_BODY_BYTES) -> Any:
    """An import document, JSON or YAML by content type, up to `max_bytes` (415 otherwise)."""
    from shared.domain.documents import load_yaml

    body = req.get_body() or b""
    if len(body) > max_bytes:
        raise PayloadTooLargeError(f"request body is larger than {max_bytes} bytes")
    kind = (req.headers.get("content-type") or "application/json").split(";")[0].strip().lower()
    if kind in _YAML_TYPES:
        return load_yaml(body, max_bytes=max_bytes)
    if kind == "application/json" or kind.endswith("+json"):
        return read_json(req, max_bytes=max_bytes)
    raise UnsupportedMediaTypeError(f"content type {kind!r} is neither JSON nor YAML")


def read_json(req: func.HttpRequest, *, max_bytes: int = MAX_BODY_BYTES) -> Any:
    """The request body as JSON, read by `shared.domain.documents` within its limits: 413 over
    `max_bytes`, 415 when the content type is not JSON, 400 when the body is not JSON that can be
    read (malformed, too deep, a huge number, a lone surrogate); no body is null."""
    from shared.domain.documents import load_json

    body = req.get_body() or b""
    if len(body) > max_bytes:
        raise PayloadTooLargeError(f"request body is larger than {max_bytes} bytes")
    content_type = (
        (req.headers.get("content-type") or "application/json").split(";")[0].strip().lower()
    )
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise UnsupportedMediaTypeError(f"content type {content_type!r} is not JSON")
    return load_json(body, max_bytes=max_bytes)


def read_object(req: func.HttpRequest) -> dict[str, Any]:
    """The request body as a JSON object; no body is an empty one."""
    body = read_json(req)
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise InvalidInputError("the request body must be a JSON object")
    return body


def flag(req: func.HttpRequest, name: str) -> bool:
    """A boolean query parameter (`?dry_run=true`); anything but true/false/1/0 is a 400."""
    value = req.params.get(name, "false").strip().lower()
    if value not in ("true", "false", "1", "0"):
        raise InvalidInputError(f"{name} must be true or false")
    return value in ("true", "1")


def principal_roles(header: str) -> set[str] | None:
    """App roles in App Service authentication's `X-MS-CLIENT-PRINCIPAL` (base64 JSON with
    `claims: [{typ, val}]`); None when the header cannot be read."""
    import base64
    import binascii

    from shared.domain.documents import load_json

    try:
        document = load_json(base64.b64decode(header.strip(), validate=True))
    except (binascii.Error, ValueError):  # not base64, or no readable JSON (InvalidInputError)
        return None
    if not isinstance(document, dict) or not isinstance(document.get("claims"), list):
        return None
    role_type = str(document.get("role_typ") or "roles").lower()
    return {
        str(claim.get("val"))
        for claim in document["claims"]
        if isinstance(claim, dict)
        and str(claim.get("typ", "")).lower() in {*_ROLE_CLAIMS, role_type}
    }


def _trusted_principal_header(req: func.HttpRequest, name: str) -> str | None:
    """A principal header, only when App Service authentication fronts the app: the platform
    then strips what the caller sent and injects its own. Otherwise anyone can set it: None."""
    from shared.bootstrap import settings

    if not settings().app_service_authentication:
        return None
    value: str | None = req.headers.get(name)
    return value


def caller_name(req: func.HttpRequest) -> str:
    """Who is making this change, as recorded in `changedBy`: the signed-in principal's name
    that App Service authentication injected, else "function key"."""
    name = (_trusted_principal_header(req, PRINCIPAL_NAME_HEADER) or "").strip()[:128]
    return name or FUNCTION_KEY_CALLER


def require_app_role(req: func.HttpRequest) -> None:
    """When Entra ID authentication fronts the app (APP_SERVICE_AUTHENTICATION, and the
    platform injected the principal header), a write needs the ADMIN_APP_ROLE app role:
    RoleDeniedError otherwise. Without it the function key (AuthLevel.FUNCTION) is the gate,
    and a principal header the caller sent is ignored."""
    if (req.method or "").upper() not in WRITE_METHODS:
        return
    header = _trusted_principal_header(req, PRINCIPAL_HEADER)
    if header is None:
        return
    from shared.bootstrap import settings

    role = settings().admin_app_role
    roles = principal_roles(header)
    if roles is None:
        raise RoleDeniedError("the client principal header is not readable")
    if role not in roles:
        raise RoleDeniedError(f"this change needs the app role {role}")
