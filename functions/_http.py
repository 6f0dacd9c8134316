"""HTTP helpers shared by the admin blueprints: JSON bodies in, JSON and problem+json out."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import azure.functions as func

from shared.errors import CachekeeperError, PayloadTooLargeError, UnsupportedMediaTypeError

__all__ = [
    "MAX_BODY_BYTES",
    "flag",
    "guarded",
    "json_response",
    "principal_roles",
    "problem",
    "problem_from_error",
    "read_json",
    "require_app_role",
]

MAX_BODY_BYTES = 256 * 1024
log = logging.getLogger(__name__)


def json_response(body: Any, *, status_code: int = 200) -> func.HttpResponse:
    """A JSON response with a stable key order."""
    return func.HttpResponse(
        json.dumps(body, sort_keys=True, default=str),
        status_code=status_code,
        mimetype="application/json",
    )


def problem(status: int, title: str, detail: str, *, code: str | None = None) -> func.HttpResponse:
    """An RFC 9457 problem details response."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if code is not None:
        body["code"] = code
    return func.HttpResponse(
        json.dumps(body, sort_keys=True), status_code=status, mimetype="application/problem+json"
    )


def problem_from_error(error: CachekeeperError) -> func.HttpResponse:
    """Map one of our errors to problem+json; messages never carry secret material."""
    return problem(error.http_status, type(error).__name__, error.message, code=error.code)


def read_json(req: func.HttpRequest) -> Any:
    """The request body as JSON: 413 over the size limit, 415 when it is not JSON."""
    body = req.get_body() or b""
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLargeError(f"request body is larger than {MAX_BODY_BYTES} bytes")
    content_type = (
        (req.headers.get("content-type") or "application/json").split(";")[0].strip().lower()
    )
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise UnsupportedMediaTypeError(f"content type {content_type!r} is not JSON")
    try:
        return json.loads(body.decode("utf-8") or "null")
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise UnsupportedMediaTypeError("request body is not valid JSON") from None


def flag(req: func.HttpRequest, name: str) -> bool:
    """A boolean query parameter (`?dry_run=true`); anything but true/false/1/0 is a 400."""
    from shared.errors import InvalidInputError

    value = req.params.get(name, "false").strip().lower()
    if value not in ("true", "false", "1", "0"):
        raise InvalidInputError(f"{name} must be true or false")
    return value in ("true", "1")


WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PRINCIPAL_HEADER = "x-ms-client-principal"
_ROLE_CLAIMS = {"roles", "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"}


def principal_roles(header: str) -> set[str] | None:
    """App roles in App Service authentication's `X-MS-CLIENT-PRINCIPAL` (base64 JSON with
    `claims: [{typ, val}]`); None when the header cannot be read."""
    import base64
    import binascii

    try:
        document = json.loads(base64.b64decode(header.strip(), validate=True).decode("utf-8"))
    except (binascii.Error, UnicodeDecodeError, ValueError):
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


def require_app_role(req: func.HttpRequest) -> func.HttpResponse | None:
    """When Entra ID authentication fronts the app (the principal header is present), a write
    needs the ADMIN_APP_ROLE app role; a 403 problem otherwise, None when the call may proceed.
    Without the header the function key (AuthLevel.FUNCTION) is the gate."""
    header = req.headers.get(PRINCIPAL_HEADER)
    if (req.method or "").upper() not in WRITE_METHODS or header is None:
        return None
    from shared.bootstrap import settings

    role = settings().admin_app_role
    roles = principal_roles(header)
    if roles is None:
        return problem(
            403, "Forbidden", "the client principal header is not readable", code="Forbidden"
        )
    if role not in roles:
        return problem(403, "Forbidden", f"this change needs the app role {role}", code="Forbidden")
    return None


def guarded(
    handler: Callable[[], func.HttpResponse], req: func.HttpRequest | None = None
) -> func.HttpResponse:
    """Run a handler: our permanent errors become problem+json; transient ones become 503 with
    Retry-After; anything unexpected is logged and answered 500 without details. Given the
    request, a write first passes `require_app_role`."""
    try:
        if req is not None:
            denied = require_app_role(req)
            if denied is not None:
                return denied
        return handler()
    except CachekeeperError as error:
        response = problem_from_error(error)
        if error.transient:
            retry = str(int(getattr(error, "retry_after", None) or 5))
            response.headers["Retry-After"] = retry
        return response
    except Exception:
        log.exception("unhandled error in an admin endpoint")
        return problem(
            500,
            "Internal Server Error",
            "an unexpected error occurred; see the logs",
            code="Internal",
        )
