"""`GET`/`HEAD /v2/{repository}/manifests/{reference}`: authorize, go upstream, answer, log."""

from __future__ import annotations

import hashlib
import json

from sandbox.acr_pull import (
    ACCESS_PREFIX,
    basic_credentials,
    basic_login,
    challenge,
    docker_error,
    log_row,
)
from sandbox.acr_pull import pullable as pullable_repositories
from sandbox.env import Env
from sandbox.errors import ServiceError
from sandbox.health import credential_health
from sandbox.state import CacheRule, Registry
from sandbox.wire import Request, Response

MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json"
REPOSITORY_EVENTS = "ContainerRegistryRepositoryEvents"


def parse_manifest_path(path: str) -> tuple[str, str] | None:
    """(repository, reference) of `/v2/<repository>/manifests/<reference>`, else None."""
    if not path.startswith("/v2/") or "/manifests/" not in path:
        return None
    repository, _, reference = path[len("/v2/") :].rpartition("/manifests/")
    if not repository or not reference or "/" in reference:
        return None
    return repository, reference


def serving_rule(registry: Registry, repository: str) -> CacheRule | None:
    """The cache rule whose target serves `repository`: an exact target first, else the
    longest wildcard prefix (`team/*`, `*`)."""
    name = repository.lower()
    best: CacheRule | None = None
    for rule in registry.cache_rules.values():
        target = rule.target.lower()
        if target == name:
            return rule
        prefix = target[:-1] if target.endswith("*") else None
        longer = best is None or len(rule.target) > len(best.target)
        if prefix is not None and name.startswith(prefix) and longer:
            best = rule
    return best


def _upstream_failure(env: Env, registry: Registry, rule: CacheRule) -> str | None:
    """Why the rule's upstream pull fails (its credential set missing, or its credentials failing
    now: judged live, not by the reported `credentialHealth`, which may lag), else None."""
    if not rule.credential_set_id:
        return None
    name = rule.credential_set_id.rstrip("/").rsplit("/", 1)[-1].lower()
    cred = registry.credential_sets.get(name)
    if cred is None:
        return f"credential set '{name}' does not exist"
    for index in range(len(cred.credentials)):
        health = credential_health(env.state, cred, index, env.now)
        if health.status != "Healthy":
            return f"credential set '{cred.name}': {health.error_code}"
    return None


def _caller(
    env: Env, registry: Registry, request: Request, repository: str
) -> tuple[str, str, bool] | Response:
    """(kind, identity, may pull) of the caller, or the 401 to answer."""
    scope = f"repository:{repository}:pull"
    header = request.headers.get("authorization", "")
    basic = basic_credentials(request)
    if basic is not None:
        kind, decision = basic_login(env, registry, *basic)
        if not decision.allowed:
            return challenge(registry, scope)
        return (
            kind,
            basic[0],
            bool(pullable_repositories(env, registry, kind, basic[0], [repository])),
        )
    if not header.lower().startswith("bearer "):
        return challenge(registry, scope)
    presented = header[7:].strip()
    issued = env.state.issued_credentials.get(presented)
    if issued is None or not presented.startswith(ACCESS_PREFIX):
        return challenge(registry, scope)
    if issued.mode != registry.auth.role_assignment_mode:
        return challenge(registry, scope, "authentication required: the credential was issued "
                         "under another role-assignment mode")  # fmt: skip
    return issued.kind, issued.identity, repository.lower() in issued.pullable


def _manifest(repository: str, reference: str) -> bytes:
    layer = hashlib.sha256(f"{repository}:{reference}".encode()).hexdigest()
    return json.dumps({
        "schemaVersion": 2, "mediaType": MANIFEST_MEDIA_TYPE,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 2,
                   "digest": f"sha256:{hashlib.sha256(layer.encode()).hexdigest()}"},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "size": 1,
                    "digest": f"sha256:{layer}"}],
    }, sort_keys=True).encode()  # fmt: skip


def handle_manifest(
    env: Env, registry: Registry, request: Request, repository: str, reference: str
) -> Response:
    """Answer one manifest request and log it."""
    if request.method not in ("GET", "HEAD"):
        raise ServiceError(405, "UNSUPPORTED", f"{request.method} manifests is not emulated")
    response, identity = _answer(env, registry, request, repository, reference)
    digest = response.headers.get("Docker-Content-Digest", "")
    log_row(
        env, registry, REPOSITORY_EVENTS, response.status, identity, OperationName="Pull",
        Repository=repository, Tag="" if reference.startswith("sha256:") else reference,
        Digest=digest, MediaType=MANIFEST_MEDIA_TYPE if response.status == 200 else "",
    )  # fmt: skip
    if request.method == "HEAD":
        response.body = b""
    return response


def _answer(
    env: Env, registry: Registry, request: Request, repository: str, reference: str
) -> tuple[Response, str]:
    caller = _caller(env, registry, request, repository)
    if isinstance(caller, Response):
        return caller, ""
    kind, identity, allowed = caller
    if not allowed:
        if kind == "token":
            status = env.options.token_denied_status
        else:
            status = env.options.rbac_denied_status
        if status == 403:
            return docker_error(
                403, "DENIED", "requested access to the resource is denied"
            ), identity
        return challenge(registry, f"repository:{repository}:pull",
                         "authentication required, visit https://aka.ms/acr/authorization "
                         "for more information."), identity  # fmt: skip
    rule = serving_rule(registry, repository)
    if rule is not None:
        why = _upstream_failure(env, registry, rule)
        if why is not None:
            message = f"authentication required with source registry for cache rule '{rule.name}'"
            return docker_error(401, "UNAUTHORIZED", f"{message} ({why})"), identity
        registry.repositories.add(repository)  # the first pull caches it
    elif repository not in registry.repositories:
        return docker_error(
            404, "NAME_UNKNOWN", f"repository {repository} is not known to registry"
        ), identity
    body = _manifest(repository, reference)
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    headers = {"Content-Type": MANIFEST_MEDIA_TYPE, "Docker-Content-Digest": digest}
    return Response(200, headers, body), identity
