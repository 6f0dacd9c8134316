"""Microsoft.ContainerRegistry: registries, credentialSets, cacheRules and their LROs."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from sandbox import acr_validate as rules
from sandbox.acr_json import cache_rule_json, credential_set_json, registry_json, usages_json
from sandbox.env import ARM_HOST, Env, format_time
from sandbox.errors import ServiceError, conflict, not_found
from sandbox.health import assignments_by_principal, evaluate_health
from sandbox.paging import arm_list
from sandbox.state import CacheRule, CredentialSet, Operation, Registry, new_guid, registry_key
from sandbox.wire import Request, Response, empty_response, json_response

Handler = Callable[[Env, Request, dict[str, str]], Response]

_RG = r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)"
_ACR = _RG + r"/providers/Microsoft\.ContainerRegistry/registries"
_REG = _ACR + r"/(?P<reg>[^/]+)"
_CHILD = _REG + r"/(?P<coll>cacheRules|credentialSets)"


def registry_of(env: Env, p: dict[str, str]) -> Registry:
    """The registry the request path names; ARM's 404 when there is none."""
    registry = env.state.registry(p["sub"], p["rg"], p["reg"])
    if registry is None:
        raise not_found(
            "ResourceNotFound",
            f"The Resource 'Microsoft.ContainerRegistry/registries/{p['reg']}' under resource "
            f"group '{p['rg']}' was not found.",
        )
    return registry


def _child_json(env: Env, registry: Registry, coll: str, item: Any) -> dict[str, Any]:
    return _children_json(env, registry, coll, [item])[0]


def _children_json(
    env: Env, registry: Registry, coll: str, items: Sequence[Any]
) -> list[dict[str, Any]]:
    if coll == "credentialsets":
        by_principal = assignments_by_principal(
            env.state, env.now
        )  # one pass for the page's identities
        return [credential_set_json(env, registry, i, by_principal=by_principal) for i in items]
    return [cache_rule_json(registry, i) for i in items]


def _items(registry: Registry, coll: str) -> dict[str, Any]:
    if coll == "credentialsets":
        return registry.credential_sets
    return registry.cache_rules


def _missing(coll: str, name: str) -> ServiceError:
    kind = "credential set" if coll == "credentialsets" else "cache rule"
    return not_found("ResourceNotFound", f"The {kind} '{name}' was not found.")


def list_registries(env: Env, req: Request, p: dict[str, str]) -> Response:
    """Registries_List / Registries_ListByResourceGroup."""
    found = [
        r
        for r in env.state.registries.values()
        if r.subscription.lower() == p["sub"].lower()
        and ("rg" not in p or r.resource_group.lower() == p["rg"].lower())
    ]
    found.sort(key=lambda r: r.name.lower())
    return arm_list(env, req, found, lambda chunk: [registry_json(r) for r in chunk])


def get_registry(env: Env, req: Request, p: dict[str, str]) -> Response:
    """Registries_Get."""
    return json_response(200, registry_json(registry_of(env, p)))


def list_usages(env: Env, req: Request, p: dict[str, str]) -> Response:
    """Registries_ListUsages."""
    return json_response(200, usages_json(env, registry_of(env, p)))


def list_children(env: Env, req: Request, p: dict[str, str]) -> Response:
    """CacheRules_List / CredentialSets_List, paged with nextLink."""
    registry = registry_of(env, p)
    coll = p["coll"].lower()
    items = sorted(_items(registry, coll).values(), key=lambda i: i.name.lower())
    return arm_list(env, req, items, lambda chunk: _children_json(env, registry, coll, chunk))


def child(env: Env, req: Request, p: dict[str, str]) -> Response:
    """GET / PUT / PATCH / DELETE of one cache rule or credential set."""
    registry = registry_of(env, p)
    coll, name = p["coll"].lower(), p["name"]
    handlers = {"GET": _get, "PUT": _put, "PATCH": _patch, "DELETE": _delete}
    handler = handlers.get(req.method)
    if handler is None:
        raise ServiceError(405, "MethodNotAllowed", f"{req.method} is not supported here.")
    return handler(env, req, registry, coll, name)


def _get(env: Env, req: Request, registry: Registry, coll: str, name: str) -> Response:
    item = _items(registry, coll).get(name.lower())
    if item is None:
        raise _missing(coll, name)
    return json_response(200, _child_json(env, registry, coll, item))


def _put(env: Env, req: Request, registry: Registry, coll: str, name: str) -> Response:
    body = req.json_object()
    items = _items(registry, coll)
    existing = items.get(name.lower())
    if coll == "credentialsets":
        rules.check_name("credential set", name)
        login_server, creds, id_type = rules.parse_credential_set_put(body)
        if isinstance(existing, CredentialSet):
            existing.login_server, existing.credentials = login_server, creds
            existing.provisioning_state = "Succeeded"  # a replace settles a pending create
            _apply_identity(env, existing, id_type)
            evaluate_health(env.state, existing, env.now)
            return json_response(200, credential_set_json(env, registry, existing))
        cred = CredentialSet(name, login_server, creds, "None", None, None, env.now, "Creating")
        _apply_identity(env, cred, id_type)
        evaluate_health(env.state, cred, env.now)
        items[name.lower()] = cred
    else:
        rules.check_name("cache rule", name)
        try:
            source, target, cred_ref = rules.parse_cache_rule_put(
                registry, name, body, env.options.max_cache_rules,
                enforce_auth_only=env.options.enforce_auth_only_upstreams,
            )  # fmt: skip
        except ServiceError as refusal:
            if not (env.options.prefix_refusal_in_lro and refusal.code == rules.PREFIX_REFUSAL):
                raise
            props = body["properties"]  # validated up to the refusal
            rule = CacheRule(name, props["sourceRepository"], props["targetRepository"], None,
                             env.now, "Creating")  # fmt: skip
            items[name.lower()] = rule
            return _started(env, req, registry, coll, name, kind="create", status=201,
                            error=refusal.body()["error"])  # fmt: skip
        if isinstance(existing, CacheRule):
            existing.credential_set_id = cred_ref
            existing.provisioning_state = "Succeeded"
            return json_response(200, cache_rule_json(registry, existing))
        items[name.lower()] = CacheRule(name, source, target, cred_ref, env.now, "Creating")
    return _started(env, req, registry, coll, name, kind="create", status=201)


def _apply_identity(env: Env, cred: CredentialSet, id_type: str) -> None:
    # A system-assigned identity keeps its principal until it is removed.
    if id_type == "None":
        cred.identity_type, cred.principal_id, cred.tenant_id = "None", None, None
    elif cred.principal_id is None:
        cred.identity_type = "SystemAssigned"
        queued = env.state.pending_principal_ids
        cred.principal_id = queued.pop(0) if queued else new_guid()
        cred.tenant_id = env.state.tenant_id


def _patch(env: Env, req: Request, registry: Registry, coll: str, name: str) -> Response:
    item = _items(registry, coll).get(name.lower())
    if item is None:
        raise _missing(coll, name)
    body = req.json_object()
    props = body.get("properties") or {}
    if isinstance(item, CredentialSet):
        rules.check_patch_keys(body, {"identity"}, {"authCredentials"})
        if "authCredentials" in props:
            item.credentials = rules.parse_auth_credentials(props["authCredentials"])
        if "identity" in body:
            _apply_identity(env, item, rules.identity_type(body["identity"]))
        evaluate_health(env.state, item, env.now)  # a write makes ACR evaluate health again
    else:
        rules.check_patch_keys(body, set(), {"credentialSetResourceId"})
        if "credentialSetResourceId" in props:
            ref = rules.check_credential_set_ref(registry, props["credentialSetResourceId"])
            if ref is None:
                rules.check_credentials_needed(
                    item.source, enforce_auth_only=env.options.enforce_auth_only_upstreams
                )
            item.credential_set_id = ref
    if env.options.async_patch:
        item.provisioning_state = "Updating"
        return _started(env, req, registry, coll, name, kind="update", status=201)
    return json_response(200, _child_json(env, registry, coll, item))


def _delete(env: Env, req: Request, registry: Registry, coll: str, name: str) -> Response:
    item = _items(registry, coll).get(name.lower())
    if item is None:
        return empty_response(204)
    if isinstance(item, CredentialSet):
        cred_id = registry.credential_set_id(item.name).lower()
        users = [
            r.name
            for r in registry.cache_rules.values()
            if (r.credential_set_id or "").lower() == cred_id
        ]
        if users:
            raise conflict(
                "CredentialSetInUse",
                f"Credential set '{item.name}' is used by cache rules: {', '.join(sorted(users))}.",
            )
    item.provisioning_state = "Deleting"
    return _started(env, req, registry, coll, name, kind="delete", status=202)


def _started(
    env: Env, req: Request, registry: Registry, coll: str, name: str, *, kind: str, status: int,
    error: Any = None,
) -> Response:  # fmt: skip
    """Record an LRO (one that will fail with `error`, when given) and answer 201 +
    Azure-AsyncOperation or 202 + Location."""
    prefix = "credentialsets" if coll == "credentialsets" else "cacherules"
    op = Operation(
        f"{prefix}-{new_guid()}",
        kind,
        registry_key(registry.subscription, registry.resource_group, registry.name),
        coll,
        name,
        env.now,
        env.options.lro_in_progress_polls,
        error=error,
    )
    env.state.operations[op.op_id] = op
    segment = "credentialSets" if coll == "credentialsets" else "cacheRules"
    api = req.query.get("api-version", "")
    url = f"https://{ARM_HOST}{registry.id}/{segment}/{name}/operationStatuses/{op.op_id}?api-version={api}"
    headers = {"Retry-After": str(env.options.retry_after)}
    if kind == "delete":
        headers["Location"] = url
        return empty_response(status, headers)
    headers["Azure-AsyncOperation"] = url
    item = _items(registry, coll)[name.lower()]
    return json_response(status, _child_json(env, registry, coll, item), headers)


def operation_status(env: Env, req: Request, p: dict[str, str]) -> Response:
    """Poll an LRO; it finishes after `lro_in_progress_polls` InProgress answers."""
    registry = registry_of(env, p)
    op = env.state.operations.get(p["op"].lower()) or env.state.operations.get(p["op"])
    if op is None or op.name.lower() != p["name"].lower():
        raise not_found("OperationNotFound", f"The operation '{p['op']}' was not found.")
    if op.status == "InProgress" and op.polls_in_progress > 0:
        op.polls_in_progress -= 1
    elif op.status == "InProgress":
        _finish(registry, op)
    headers = {"Retry-After": str(env.options.retry_after)}
    if op.kind == "delete":
        if op.status == "InProgress":
            return empty_response(
                202, {**headers, "Location": f"https://{ARM_HOST}{req.path}?{_q(req)}"}
            )
        return empty_response(204)
    body: dict[str, Any] = {
        "id": req.path,
        "name": op.op_id,
        "status": op.status,
        "startTime": format_time(op.started),
    }
    if op.status != "InProgress":
        body["endTime"] = format_time(env.now)
    if op.error is not None:
        body["error"] = op.error
    return json_response(200, body, headers)


def _q(req: Request) -> str:
    return "&".join(f"{k}={v}" for k, v in req.query.items())


def _finish(registry: Registry, op: Operation) -> None:
    items = _items(registry, op.collection)
    item = items.get(op.name.lower())
    if op.kind == "delete" or op.error is not None:
        items.pop(op.name.lower(), None)  # a failed create leaves no rule behind
    elif item is not None:
        item.provisioning_state = "Succeeded"
    op.status = "Succeeded" if op.error is None else "Failed"


ROUTES: list[tuple[set[str], re.Pattern[str], Handler]] = [
    (
        {"GET"},
        re.compile(
            r"^/subscriptions/(?P<sub>[^/]+)/providers/Microsoft\.ContainerRegistry/registries$",
            re.I,
        ),
        list_registries,
    ),
    ({"GET"}, re.compile(_ACR + "$", re.I), list_registries),
    ({"GET"}, re.compile(_REG + "$", re.I), get_registry),
    ({"GET"}, re.compile(_REG + "/listUsages$", re.I), list_usages),
    ({"GET"}, re.compile(_CHILD + "$", re.I), list_children),
    ({"GET", "PUT", "PATCH", "DELETE"}, re.compile(_CHILD + r"/(?P<name>[^/]+)$", re.I), child),
    (
        {"GET"},
        re.compile(_CHILD + r"/(?P<name>[^/]+)/operationStatuses/(?P<op>[^/]+)$", re.I),
        operation_status,
    ),
]
