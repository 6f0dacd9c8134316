"""ACR's data plane on `<registry>.azurecr.io`: the token exchange and the repository catalog.

Only what cachekeeper reads: `GET /acr/v1/_catalog` and `GET /v2/_catalog` (repository names,
paged with `n`/`last` and a `Link` header), `GET /acr/v1/{repository}` (properties, 404
`NAME_UNKNOWN` when absent). As on ACR, an unauthenticated request gets a 401 Bearer challenge
naming the token endpoint; `POST /oauth2/exchange` trades an Entra ID token for a refresh token and
`POST /oauth2/token` trades that for an access token (any token is accepted; nothing is stored).
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import parse_qsl, quote, unquote

from sandbox.env import Env
from sandbox.errors import ServiceError
from sandbox.state import Registry
from sandbox.wire import Request, Response, json_response

__all__ = ["handle_acr_data", "registry_for_host"]

_CATALOG_PATHS = ("/acr/v1/_catalog", "/v2/_catalog")
_REFRESH_TOKEN = "sandbox-acr-refresh-token"  # no dots: the SDK reads no expiry from it
_ACCESS_TOKEN = "sandbox-acr-access-token"


def registry_for_host(env_registries: Iterable[Registry], host: str) -> Registry | None:
    """The registry whose login server is `host`, if any."""
    for registry in env_registries:
        if registry.login_server == host.lower():
            return registry
    return None


def _docker_error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Response:
    return json_response(
        status, {"errors": [{"code": code, "message": message, "detail": None}]}, headers
    )


def _form(request: Request) -> dict[str, str]:
    return dict(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))


def _challenge(registry: Registry, scope: str) -> Response:
    host = registry.login_server
    header = f'Bearer realm="https://{host}/oauth2/token",service="{host}",scope="{scope}"'
    return _docker_error(
        401, "UNAUTHORIZED", "authentication required", {"WWW-Authenticate": header}
    )


def _exchange(request: Request, registry: Registry) -> Response:
    form = _form(request)
    if form.get("grant_type") != "access_token" or not form.get("access_token"):
        raise ServiceError(
            400, "UNSUPPORTED", "grant_type access_token with an access_token is required"
        )
    if form.get("service", "").lower() != registry.login_server:
        raise ServiceError(400, "UNSUPPORTED", f"service must be {registry.login_server}")
    return json_response(200, {"refresh_token": _REFRESH_TOKEN})


def _token(request: Request, registry: Registry) -> Response:
    form = _form(request)
    if form.get("grant_type") != "refresh_token" or form.get("refresh_token") != _REFRESH_TOKEN:
        return _docker_error(401, "UNAUTHORIZED", "the refresh token is not valid")
    return json_response(200, {"access_token": _ACCESS_TOKEN})


def _catalog(request: Request, registry: Registry) -> Response:
    names = sorted(registry.repositories)
    last = request.query.get("last")
    if last:
        names = [n for n in names if n > last]
    size = request.query.get("n")
    headers: dict[str, str] = {}
    if size and size.isdigit() and 0 < int(size) < len(names):
        names = names[: int(size)]
        headers["Link"] = f'<{request.path}?last={quote(names[-1], safe="")}&n={size}>; rel="next"'
    return json_response(200, {"repositories": names}, headers)


def _properties(env: Env, registry: Registry, name: str) -> Response:
    if name not in registry.repositories:
        return _docker_error(404, "NAME_UNKNOWN", f"repository {name} is not known to registry")
    stamp = env.now.isoformat()
    return json_response(200, {
        "registry": registry.login_server, "imageName": name, "createdTime": stamp,
        "lastUpdateTime": stamp, "manifestCount": 1, "tagCount": 1,
        "changeableAttributes": {"deleteEnabled": True, "writeEnabled": True,
                                 "readEnabled": True, "listEnabled": True},
    })  # fmt: skip


def handle_acr_data(env: Env, registry: Registry, request: Request) -> Response:
    """Answer one data-plane request for `registry`."""
    path = unquote(request.path)  # the SDK sends `team-a%2Fapi` for team-a/api
    if request.method == "POST" and path == "/oauth2/exchange":
        return _exchange(request, registry)
    if request.method == "POST" and path == "/oauth2/token":
        return _token(request, registry)
    if request.method != "GET":
        raise ServiceError(405, "UNSUPPORTED", f"{request.method} {path} is not emulated")
    if path in _CATALOG_PATHS:
        scope = "registry:catalog:*"
    elif path.startswith("/acr/v1/") and len(path) > len("/acr/v1/"):
        scope = f"repository:{path[len('/acr/v1/') :]}:metadata_read"
    else:
        return _docker_error(404, "NAME_UNKNOWN", f"{path} is not emulated")
    if request.headers.get("authorization", "") != f"Bearer {_ACCESS_TOKEN}":
        return _challenge(registry, scope)
    if path in _CATALOG_PATHS:
        return _catalog(request, registry)
    return _properties(env, registry, path[len("/acr/v1/") :])
