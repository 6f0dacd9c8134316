"""ACR's data plane for pulls: who the caller is, what it may pull, and the manifest itself.

`POST /oauth2/exchange` with an Entra access token whose `oid` claim names the caller gives a
refresh token for that identity; `/oauth2/token` (POST form or GET query) trades it, or Basic
credentials of the admin user or a token, for an access token. As the Docker token spec says,
the token server grants the intersection of the requested `repository:<name>:pull` scopes and
the caller's rights without failing; the refusal comes at `GET/HEAD /v2/<name>/manifests/<ref>`
(which also takes Basic credentials directly). Credentials issued under one role-assignment mode
are refused (401) after the registry switches mode. A repository served by a cache rule whose
credential set is not Healthy fails upstream with 401. Every manifest request appends a
`ContainerRegistryRepositoryEvents`-shaped row, every refused login a `ContainerRegistryLoginEvents` one.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from typing import Any

from sandbox import pull_access
from sandbox.access import AccessDecision, scope_covers
from sandbox.env import Env, format_time
from sandbox.health import effective_assignments
from sandbox.state import Registry, new_guid
from sandbox.state_auth import IssuedCredential, ScopeMap
from sandbox.wire import Request, Response, json_response

ANONYMOUS_REFRESH_TOKEN = "sandbox-acr-refresh-token"  # no dots: the SDK reads no expiry from it
LOGIN_EVENTS = "ContainerRegistryLoginEvents"
REFRESH_PREFIX, ACCESS_PREFIX = "sandbox-acr-refresh-", "sandbox-acr-access-"


def docker_error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Response:
    """A registry API error body (`{"errors": [...]}`)."""
    return json_response(
        status, {"errors": [{"code": code, "message": message, "detail": None}]}, headers
    )


def challenge(registry: Registry, scope: str, message: str = "authentication required") -> Response:
    """401 with the Bearer challenge naming the token endpoint."""
    host = registry.login_server
    header = f'Bearer realm="https://{host}/oauth2/token",service="{host}",scope="{scope}"'
    return docker_error(401, "UNAUTHORIZED", message, {"WWW-Authenticate": header})


def entra_object_id(access_token: str) -> str | None:
    """The `oid` claim of an (unverified) Entra JWT, if it has one."""
    parts = access_token.split(".")
    if len(parts) < 2:
        return None
    try:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded))
    except (binascii.Error, ValueError):
        return None
    oid = claims.get("oid") if isinstance(claims, dict) else None
    return str(oid) if oid else None


def log_row(
    env: Env, registry: Registry, table: str, status: int, identity: str, **extra: Any
) -> None:
    """Append one resource-log row (`table`: ContainerRegistryRepositoryEvents or LoginEvents)."""
    row: dict[str, Any] = {
        "Type": table,
        "TimeGenerated": format_time(env.now),
        "LoginServer": registry.login_server,
        "Identity": identity,
        "ResultDescription": str(status),
        "CorrelationId": new_guid(),
        "_ResourceId": registry.id,
    }
    row.update(extra)
    env.state.pull_log.append(row)


def log_login_failure(env: Env, registry: Registry, status: int, identity: str, why: str) -> None:
    """A refused authentication (`ContainerRegistryLoginEvents`)."""
    log_row(env, registry, LOGIN_EVENTS, status, identity, OperationName="Login", Reason=why)


def exchange_for(env: Env, registry: Registry, object_id: str) -> Response:
    """A refresh token for an Entra identity (option `exchange_requires_role`: 401 when it has no
    role assignment at or above the registry at all)."""
    if env.options.exchange_requires_role and not any(
        a.principal_id.lower() == object_id.lower()
        and scope_covers(a.scope, registry.id, env.state.management_groups)
        for a in effective_assignments(env.state, env.now)
    ):
        log_login_failure(env, registry, 401, object_id, "no role assignment on the registry")
        return docker_error(401, "UNAUTHORIZED", "the identity has no access to the registry")
    token = _issue(env, registry, "refresh", IssuedCredential("entra", object_id, "", env.now))
    return json_response(200, {"refresh_token": token})


def _issue(env: Env, registry: Registry, prefix: str, grant: IssuedCredential) -> str:
    value = f"{REFRESH_PREFIX if prefix == 'refresh' else ACCESS_PREFIX}{secrets.token_hex(16)}"
    mode = registry.auth.role_assignment_mode
    env.state.issued_credentials[value] = IssuedCredential(
        grant.kind, grant.identity, mode, env.now, grant.pullable
    )
    return value


def basic_credentials(request: Request) -> tuple[str, str] | None:
    """(user, password) of a Basic `Authorization` header, else None."""
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:].strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, password


def basic_login(
    env: Env, registry: Registry, user: str, password: str
) -> tuple[str, AccessDecision]:
    """Who Basic credentials are (`admin` or `token`) and whether they are accepted."""
    if user.lower() == registry.name.lower():
        return "admin", pull_access.admin_can_login(registry.auth, password)
    token = registry.auth.tokens.get(user.lower())
    return "token", pull_access.token_can_login(token, password, env.now)


def pullable(
    env: Env, registry: Registry, kind: str, identity: str, wanted: list[str]
) -> frozenset[str]:
    """Of the repositories `wanted`, those the caller may pull now (lower case)."""
    auth = registry.auth
    allowed: set[str] = set()
    assignments = effective_assignments(env.state, env.now) if kind == "entra" else []
    for repo in wanted:
        if kind == "admin":
            decision = AccessDecision(True, "admin user")
        elif kind == "token":
            token = auth.tokens.get(identity.lower())
            scope_map = _scope_map(registry, token.scope_map_id if token else None)
            decision = pull_access.scope_map_allows(scope_map, repo)
        else:
            decision = pull_access.entra_can_pull(
                identity, registry.id, repo, auth, assignments=assignments,
                roles=env.state.role_definitions, management_groups=env.state.management_groups,
            )  # fmt: skip
        if decision.allowed:
            allowed.add(repo.lower())
    return frozenset(allowed)


def _scope_map(registry: Registry, scope_map_id: str | None) -> ScopeMap | None:
    if not scope_map_id:
        return None
    return registry.auth.scope_maps.get(scope_map_id.rstrip("/").rsplit("/", 1)[-1].lower())


def requested_repositories(scope: str) -> list[str]:
    """The repositories of `repository:<name>:pull` entries of a (space-separated) scope."""
    found = []
    for item in scope.split():
        parts = item.split(":")
        if len(parts) == 3 and parts[0] == "repository" and "pull" in parts[2].split(","):
            found.append(parts[1])
    return found


def token_endpoint(
    env: Env, registry: Registry, request: Request, form: dict[str, str]
) -> Response | None:
    """`/oauth2/token` for an issued refresh token or Basic credentials; None: not ours (the
    catalog's anonymous flow)."""
    wanted = requested_repositories(form.get("scope", ""))
    basic = basic_credentials(request)
    if basic is not None:
        kind, decision = basic_login(env, registry, *basic)
        if not decision.allowed:
            log_login_failure(env, registry, 401, basic[0], decision.reason)
            return docker_error(401, "UNAUTHORIZED", "authentication required")
        grant = IssuedCredential(
            kind, basic[0], "", env.now, pullable(env, registry, kind, basic[0], wanted)
        )
        return json_response(200, {"access_token": _issue(env, registry, "access", grant)})
    presented = form.get("refresh_token", "")
    refresh = env.state.issued_credentials.get(presented)
    if refresh is None or not presented.startswith(REFRESH_PREFIX):
        return None
    if refresh.mode != registry.auth.role_assignment_mode:
        log_login_failure(env, registry, 401, refresh.identity, "issued under another mode")
        return docker_error(401, "UNAUTHORIZED", "the refresh token is not valid")
    grant = IssuedCredential(
        refresh.kind, refresh.identity, "", env.now,
        pullable(env, registry, refresh.kind, refresh.identity, wanted),
    )  # fmt: skip
    return json_response(200, {"access_token": _issue(env, registry, "access", grant)})
