"""ACR's data plane on `<registry>.azurecr.io`: token exchange, the catalog, manifest pulls.

Only what cachekeeper reads: `GET /acr/v1/_catalog` and `GET /v2/_catalog` (repository names,
paged with `n`/`last` and a `Link` header), `GET /acr/v1/{repository}` (properties, 404
`NAME_UNKNOWN` when absent). As on ACR, an unauthenticated request gets a 401 Bearer challenge
naming the token endpoint; `POST /oauth2/exchange` trades an Entra ID token for a refresh token and
`POST /oauth2/token` trades that for an access token (a token without an `oid` claim is accepted
for the catalog; one naming its caller, Basic credentials and manifest pulls: acr_pull.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import parse_qsl, quote, unquote

from sandbox.acr_manifest import handle_manifest, parse_manifest_path
from sandbox.acr_pull import (
    ANONYMOUS_REFRESH_TOKEN,
    challenge,
    docker_error,
    entra_object_id,
    exchange_for,
    token_endpoint,
)
from sandbox.env import Env
from sandbox.errors import ServiceError
from sandbox.state import Registry
from sandbox.wire import Request, Response, json_response

__all__ = ["handle_acr_data", "registry_for_host"]

_CATALOG_PATHS = ("/acr/v1/_catalog", "/v2/_catalog")
_REFRESH_TOKEN = ANONYMOUS_REFRESH_TOKEN
_ACCESS_TOKEN = "sandbox-acr-access-token"


def registry_for_host(env_registries: Iterable[Registry], host: str) -> Registry | None:
    """The registry whose login server is `host`, if any."""
    for registry in env_registries:
        if registry.login_server == host.lower():
            return registry
    return None


def _form(request: Request) -> dict[str, str]:
    return dict(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))


def _exchange(env: Env, request: Request, registry: Registry) -> Response:
    form = _form(request)
    if form.get("grant_type") != "access_token" or not form.get("access_token"):
        raise ServiceError(
            400, "UNSUPPORTED", "grant_type access_token with an access_token is required"
        )
    if form.get("service", "").lower() != registry.login_server:
        raise ServiceError(400, "UNSUPPORTED", f"service must be {registry.login_server}")
    object_id = entra_object_id(form["access_token"])
    if object_id is not None:  # a token naming its caller: rights are judged for it
        return exchange_for(env, registry, object_id)
    return json_response(200, {"refresh_token": _REFRESH_TOKEN})


def _token(env: Env, request: Request, registry: Registry) -> Response:
    form = _form(request) if request.method == "POST" else dict(request.query)
    answer = token_endpoint(env, registry, request, form)
    if answer is not None:
        return answer
    if form.get("grant_type") != "refresh_token" or form.get("refresh_token") != _REFRESH_TOKEN:
        return docker_error(401, "UNAUTHORIZED", "the refresh token is not valid")
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
        return docker_error(404, "NAME_UNKNOWN", f"repository {name} is not known to registry")
    stamp = env.now.isoformat()
    return json_response(200, {
        "registry": registry.login_server, "imageName": name, "createdTime": stamp,
        "lastUpdateTime": stamp, "manifestCount": 1, "tagCount": 1,
        "changeableAttributes": {"deleteEnabled": True, "writeEnabled": True,
                                 "readEnabled": True, "listEnabled": True},
    })  # fmt: skip


def handle_acr_data(env: Env, registry: Registry, request: Request) -> Response:  # noqa: PLR0911
    """Answer one data-plane request for `registry`."""
    path = unquote(request.path)  # the SDK sends `team-a%2Fapi` for team-a/api
    if request.method == "POST" and path == "/oauth2/exchange":
        return _exchange(env, request, registry)
    if request.method in ("POST", "GET") and path == "/oauth2/token":
        return _token(env, request, registry)
    manifest = parse_manifest_path(path)
    if manifest is not None:
        return handle_manifest(env, registry, request, *manifest)
    if request.method != "GET":
        raise ServiceError(405, "UNSUPPORTED", f"{request.method} {path} is not emulated")
    if path in _CATALOG_PATHS:
        scope = "registry:catalog:*"
    elif path.startswith("/acr/v1/") and len(path) > len("/acr/v1/"):
        scope = f"repository:{path[len('/acr/v1/') :]}:metadata_read"
    else:
        return docker_error(404, "NAME_UNKNOWN", f"{path} is not emulated")
    bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
    if bearer != _ACCESS_TOKEN and bearer not in env.state.issued_credentials:  # not authorized
        return challenge(registry, scope)
    if path in _CATALOG_PATHS:
        return _catalog(request, registry)
    return _properties(env, registry, path[len("/acr/v1/") :])
