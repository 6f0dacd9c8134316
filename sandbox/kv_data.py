"""Key Vault data plane (secrets): challenge auth, versions, list, get, set, update."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sandbox.clock import parse_time
from sandbox.env import Env, unix
from sandbox.errors import ServiceError, bad_request
from sandbox.paging import page
from sandbox.state import Secret, SecretVersion, Vault, new_version_id
from sandbox.wire import Request, Response, json_response

_API = re.compile(r"^(7\.\d|2016-10-01|\d{4}-\d{2}-\d{2}(-preview)?)$")
_NAME = re.compile(r"^[0-9a-zA-Z-]{1,127}$")
RECOVERY_LEVEL = "Recoverable+Purgeable"


def challenge(vault: Vault) -> Response:
    """401 with the Bearer challenge the SDK's challenge-auth policy parses."""
    header = (
        f'Bearer authorization="https://login.microsoftonline.com/{vault.tenant_id}", '
        'resource="https://vault.azure.net"'
    )
    err = ServiceError(
        401,
        "Unauthorized",
        "AKV10000: Request is missing a Bearer or PoP token.",
        headers={"WWW-Authenticate": header},
    )
    return json_response(err.status, err.body(), err.headers)


def attributes(v: SecretVersion, *, full: bool) -> dict[str, Any]:
    """Secret attributes with Unix-second timestamps; `full` adds the recovery level."""
    out: dict[str, Any] = {"enabled": v.enabled}
    if v.not_before is not None:
        out["nbf"] = unix(v.not_before)
    if v.expires is not None:
        out["exp"] = unix(v.expires)
    out["created"] = unix(v.created)
    out["updated"] = unix(v.updated)
    if full:
        out["recoveryLevel"] = RECOVERY_LEVEL
    return out


def _item(v: SecretVersion, ident: str, *, full: bool, value: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if value:
        out["value"] = v.value
    out["id"] = ident
    if v.content_type is not None:
        out["contentType"] = v.content_type
    out["attributes"] = attributes(v, full=full)
    if v.tags:
        out["tags"] = dict(v.tags)
    return out


def version_id(vault: Vault, secret: Secret, v: SecretVersion) -> str:
    """The versioned secret identifier."""
    return f"{vault.uri}secrets/{secret.name}/{v.version}"


def handle_keyvault(env: Env, vault: Vault, req: Request) -> Response:
    """Serve one `<vault>.vault.azure.net` request."""
    if not req.headers.get("authorization", "").lower().startswith("bearer "):
        return challenge(vault)
    version = req.query.get("api-version", "")
    if not _API.match(version):
        raise bad_request(
            "BadParameter", "The request URI contains an invalid or missing 'api-version'."
        )
    parts = req.path.strip("/").split("/")
    if not parts or parts[0].lower() != "secrets":
        raise ServiceError(404, "NotFound", f"The path '{req.path}' is not served by the sandbox.")
    if len(parts) == 1 and req.method == "GET":
        return _list_secrets(env, vault, req)
    if len(parts) == 3 and parts[2].lower() == "versions" and req.method == "GET":
        return _list_versions(env, vault, req, parts[1])
    if len(parts) in (2, 3) and req.method in ("GET", "PATCH"):
        name, ver = parts[1], parts[2] if len(parts) == 3 else None
        if req.method == "GET":
            return _get(vault, name, ver)
        return _update(env, vault, req, name, ver)
    if len(parts) == 2 and req.method == "PUT":
        return _set(env, vault, req, parts[1])
    raise ServiceError(405, "MethodNotAllowed", f"{req.method} {req.path} is not supported.")


def _secret(vault: Vault, name: str) -> Secret:
    secret = vault.secrets.get(name.lower())
    if secret is None or secret.latest is None:
        raise ServiceError(
            404,
            "SecretNotFound",
            f"A secret with (name/id) {name} was not found in this key vault.",
        )
    return secret


def _version(vault: Vault, name: str, ver: str | None) -> tuple[Secret, SecretVersion]:
    secret = _secret(vault, name)
    found = secret.find(ver) if ver else secret.latest
    if found is None:
        raise ServiceError(
            404,
            "SecretNotFound",
            f"A secret with (name/id) {name}/{ver} was not found in this key vault.",
        )
    return secret, found


def _max_results(env: Env, req: Request) -> int:
    raw = req.query.get("maxresults")
    if raw is None:
        return env.options.kv_page_size
    if not raw.isdigit() or not 1 <= int(raw) <= 25:
        raise bad_request("BadParameter", "maxresults must be between 1 and 25.")
    return int(raw)


def _paged(env: Env, req: Request, items: list[dict[str, Any]]) -> Response:
    base = f"https://{req.host}:443{req.path}"
    chunk, next_link = page(items, req.query, base, _max_results(env, req), skip_param="$skiptoken")
    body: dict[str, Any] = {"value": list(chunk)}
    if next_link:  # omitted on the last page (the spec types nextLink as a string)
        body["nextLink"] = next_link
    return json_response(200, body)


def _list_secrets(env: Env, vault: Vault, req: Request) -> Response:
    items = []
    for secret in sorted(vault.secrets.values(), key=lambda s: s.name.lower()):
        if secret.latest is not None:
            ident = f"{vault.uri}secrets/{secret.name}"
            items.append(_item(secret.latest, ident, full=False, value=False))
    return _paged(env, req, items)


def _list_versions(env: Env, vault: Vault, req: Request, name: str) -> Response:
    secret = _secret(vault, name)
    items = [
        _item(v, version_id(vault, secret, v), full=False, value=False)
        for v in listing_order(secret.versions, env.options.kv_versions_order)
    ]
    return _paged(env, req, items)


def listing_order(versions: list[SecretVersion], order: str) -> list[SecretVersion]:
    """The order list-versions answers in. Key Vault documents none and field reports disagree
    (newest first; by version id), so it is an option: `created` (oldest first),
    `newest-first` or `version-id`."""
    if order == "newest-first":
        return list(reversed(versions))
    if order == "version-id":
        return sorted(versions, key=lambda v: v.version)
    return list(versions)


def _get(vault: Vault, name: str, ver: str | None) -> Response:
    secret, found = _version(vault, name, ver)
    # A disabled version answers 403 whether it is named or is the latest one a versionless read
    # resolves to; nbf/exp are not enforced on reads (docs/fidelity.md, Key Vault).
    if not found.enabled:
        raise ServiceError(
            403,
            "Forbidden",
            "Operation get is not allowed on a disabled secret.",
            inner_code="SecretDisabled",
        )
    body = _item(found, version_id(vault, secret, found), full=True, value=True)
    response = json_response(200, body)
    response.secret_value_served = True
    return response


def apply_attributes(v: SecretVersion, body: dict[str, Any], now: datetime) -> None:
    """Apply contentType, tags and attributes (enabled, nbf, exp) from a request body."""
    attrs = body.get("attributes") or {}
    if "enabled" in attrs:
        v.enabled = bool(attrs["enabled"])
    if "nbf" in attrs:
        v.not_before = None if attrs["nbf"] is None else parse_time(attrs["nbf"])
    if "exp" in attrs:
        v.expires = None if attrs["exp"] is None else parse_time(attrs["exp"])
    if "contentType" in body:
        v.content_type = body["contentType"]
    if "tags" in body:
        v.tags = dict(body["tags"] or {})
    v.updated = now


def add_version(
    vault: Vault,
    name: str,
    value: str,
    now: datetime,
    body: dict[str, Any] | None = None,
    *,
    version_id: str | None = None,
) -> tuple[Secret, SecretVersion]:
    """Create a new current version of secret `name` (creating the secret if needed)."""
    if not _NAME.match(name):
        raise bad_request("BadParameter", f"The secret name '{name}' is invalid.")
    secret = vault.secrets.setdefault(name.lower(), Secret(name))
    v = SecretVersion((version_id or new_version_id()).lower(), value, now, now)
    apply_attributes(v, body or {}, now)
    secret.versions.append(v)
    return secret, v


def _set(env: Env, vault: Vault, req: Request, name: str) -> Response:
    body = req.json_object()
    value = body.get("value")
    if not isinstance(value, str):
        raise bad_request("BadParameter", "The secret 'value' is required.")
    secret, v = add_version(vault, name, value, env.now, body)
    # The caller's own value is echoed back, as Key Vault does; that is not a read of a secret.
    return json_response(200, _item(v, version_id(vault, secret, v), full=True, value=True))


def _update(env: Env, vault: Vault, req: Request, name: str, ver: str | None) -> Response:
    secret, found = _version(vault, name, ver)
    apply_attributes(found, req.json_object(), env.now)
    return json_response(
        200, _item(found, version_id(vault, secret, found), full=True, value=False)
    )
