"""Microsoft.ContainerRegistry authentication resources: the registry's `adminUserEnabled` and
`roleAssignmentMode` (PUT/PATCH), `listCredentials`, `generateCredentials`, `tokens`, `scopeMaps`.

Writes the spec models as long-running operations finish at once here: 200 (update) or 201
(create) with `provisioningState: Succeeded`, which the SDK's poller takes as done.
"""

from __future__ import annotations

import re
from typing import Any

from sandbox import acr_auth_json as j
from sandbox.acr_json import registry_json
from sandbox.arm_acr import Handler, get_registry, registry_of
from sandbox.env import Env
from sandbox.errors import bad_request, not_found
from sandbox.paging import arm_list
from sandbox.state import Registry, new_secret_value
from sandbox.state_auth import ScopeMap, Token
from sandbox.wire import Request, Response, empty_response, json_response

_REG = (
    r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)"
    r"/providers/Microsoft\.ContainerRegistry/registries/(?P<reg>[^/]+)"
)


def ensure_admin_passwords(registry: Registry) -> list[str]:
    """The admin user's two passwords (made on first need)."""
    while len(registry.auth.admin_passwords) < 2:
        registry.auth.admin_passwords.append(new_secret_value())
    return registry.auth.admin_passwords


def registry_write(env: Env, req: Request, p: dict[str, str]) -> Response:
    """Registries_Get, and Registries_Create / Registries_Update for the authentication
    properties (and tags); a PUT of an unknown registry creates it."""
    if req.method == "GET":
        return get_registry(env, req, p)
    body = req.json_object()
    props = body.get("properties") or {}
    if not isinstance(props, dict):
        raise bad_request("InvalidRequestContent", "properties must be an object.")
    existing = env.state.registry(p["sub"], p["rg"], p["reg"])
    if existing is None:
        if req.method == "PATCH":
            registry_of(env, p)  # raises the 404
        registry = _create_registry(env, p, body)
        status = 201
    else:
        registry, status = existing, 200
    registry.auth.admin_user_enabled = j.parse_admin(props, registry.auth.admin_user_enabled)
    registry.auth.role_assignment_mode = j.parse_mode(props, registry.auth.role_assignment_mode)
    sku = body.get("sku")
    if isinstance(sku, dict) and isinstance(sku.get("name"), str):
        registry.sku = sku["name"]
    if isinstance(body.get("tags"), dict):
        registry.tags = {str(k): str(v) for k, v in body["tags"].items()}
    return json_response(status, registry_json(registry))


def _create_registry(env: Env, p: dict[str, str], body: dict[str, Any]) -> Registry:
    sku = body.get("sku") or {}
    if not isinstance(body.get("location"), str) or not isinstance(sku, dict):
        raise bad_request("InvalidRequestContent", "location and sku.name are required.")
    registry = Registry(
        p["sub"], p["rg"], p["reg"], body["location"], str(sku.get("name") or "Basic"), env.now
    )
    return env.state.add_registry(registry)


def list_credentials(env: Env, req: Request, p: dict[str, str]) -> Response:
    """Registries_ListCredentials: the admin user name and its two passwords."""
    registry = registry_of(env, p)
    values = ensure_admin_passwords(registry)
    passwords = [
        {"name": n, "value": v} for n, v in zip(("password", "password2"), values, strict=True)
    ]
    return json_response(200, {"username": registry.name, "passwords": passwords})


def generate_credentials(env: Env, req: Request, p: dict[str, str]) -> Response:
    """Registries_GenerateCredentials for a token: new password1/password2 (or the one named)."""
    registry = registry_of(env, p)
    body = req.json_object()
    token_id = body.get("tokenId")
    prefix = f"{registry.id}/tokens/".lower()
    if not isinstance(token_id, str) or not token_id.lower().startswith(prefix):
        raise bad_request("InvalidRequestContent", "tokenId must be a token of this registry.")
    token = registry.auth.tokens.get(token_id[len(prefix) :].lower())
    if token is None:
        raise not_found("ResourceNotFound", f"The token '{token_id}' was not found.")
    expiry = j.parse_expiry(body.get("expiry"))
    names = [body["name"]] if body.get("name") else list(j.PASSWORD_NAMES)
    fresh = [j.new_password(str(n), env.now, expiry) for n in names]
    kept = [e for e in token.passwords if e.name not in {f.name for f in fresh}]
    token.passwords = sorted(kept + fresh, key=lambda e: e.name)
    passwords = [j.password_json(e, with_value=True) for e in fresh]
    return json_response(200, {"username": token.name, "passwords": passwords})


def list_children(env: Env, req: Request, p: dict[str, str]) -> Response:
    """Tokens_List / ScopeMaps_List."""
    registry = registry_of(env, p)
    if p["coll"].lower() == "tokens":
        tokens = sorted(registry.auth.tokens.values(), key=lambda t: t.name.lower())
        return arm_list(env, req, tokens, lambda c: [j.token_json(registry, t) for t in c])
    maps = sorted(registry.auth.scope_maps.values(), key=lambda s: s.name.lower())
    return arm_list(env, req, maps, lambda c: [j.scope_map_json(registry, s) for s in c])


def child(env: Env, req: Request, p: dict[str, str]) -> Response:
    """GET / PUT / PATCH / DELETE of one token or scope map."""
    registry = registry_of(env, p)
    tokens = p["coll"].lower() == "tokens"
    items: dict[str, Any] = registry.auth.tokens if tokens else registry.auth.scope_maps
    name, key = p["name"], p["name"].lower()
    if req.method == "DELETE":
        if items.pop(key, None) is None:
            return empty_response(204)
        return empty_response(200)
    existing = items.get(key)
    if req.method == "GET" or (req.method == "PATCH" and existing is None):
        if existing is None:
            kind = "token" if tokens else "scope map"
            raise not_found("ResourceNotFound", f"The {kind} '{name}' was not found.")
        return json_response(200, _json(registry, existing))
    props = req.json_object().get("properties") or {}
    if not isinstance(props, dict):
        raise bad_request("InvalidRequestContent", "properties must be an object.")
    if not re.fullmatch(r"[a-zA-Z0-9-]{5,50}", name):
        raise bad_request("InvalidResourceName", f"'{name}' must be 5-50 letters, digits or '-'.")
    item = _write_token(env, registry, existing, name, props, method=req.method) if tokens else (
        _write_scope_map(env, existing, name, props, req.method)
    )  # fmt: skip
    items[key] = item
    return json_response(201 if existing is None else 200, _json(registry, item))


def _json(registry: Registry, item: Token | ScopeMap) -> dict[str, Any]:
    if isinstance(item, Token):
        return j.token_json(registry, item)
    return j.scope_map_json(registry, item)


def _write_scope_map(
    env: Env, existing: ScopeMap | None, name: str, props: dict[str, Any], method: str
) -> ScopeMap:
    actions = j.parse_actions(props, required=method == "PUT")
    description = props.get("description")
    if existing is None:
        return ScopeMap(name, actions or [], env.now, str(description or ""))
    if actions is not None:
        existing.actions = actions  # applies to every token at once, as documented
    if isinstance(description, str):
        existing.description = description
    return existing


def _write_token(
    env: Env, registry: Registry, existing: Token | None, name: str, props: dict[str, Any], *,
    method: str,
) -> Token:  # fmt: skip
    scope_map_id = j.parse_scope_map_id(registry, props)
    if method == "PUT" and scope_map_id is None:
        raise bad_request("InvalidRequestContent", "properties.scopeMapId is required.")
    token = existing or Token(name, scope_map_id, env.now)
    token.status = j.parse_status(props, token.status)
    if scope_map_id is not None:
        token.scope_map_id = scope_map_id
    creds = props.get("credentials") or {}
    passwords = creds.get("passwords") or [] if isinstance(creds, dict) else None
    if not isinstance(passwords, list):
        raise bad_request("InvalidRequestContent", "credentials.passwords must be a list.")
    for raw in passwords:
        if not isinstance(raw, dict):
            raise bad_request("InvalidRequestContent", "credentials.passwords are objects.")
        entry = next((e for e in token.passwords if e.name == raw.get("name")), None)
        if entry is None:
            token.passwords.append(j.new_password(str(raw.get("name")), env.now, None))
            entry = token.passwords[-1]
        if "expiry" in raw:
            entry.expiry = j.parse_expiry(raw["expiry"])
    return token


ROUTES: list[tuple[set[str], re.Pattern[str], Handler]] = [
    ({"GET", "PUT", "PATCH"}, re.compile(_REG + "$", re.I), registry_write),
    ({"POST"}, re.compile(_REG + "/listCredentials$", re.I), list_credentials),
    ({"POST"}, re.compile(_REG + "/generateCredentials$", re.I), generate_credentials),
    ({"GET"}, re.compile(_REG + "/(?P<coll>tokens|scopeMaps)$", re.I), list_children),
    (
        {"GET", "PUT", "PATCH", "DELETE"},
        re.compile(_REG + r"/(?P<coll>tokens|scopeMaps)/(?P<name>[^/]+)$", re.I),
        child,
    ),
]
