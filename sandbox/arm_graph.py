"""Azure Resource Graph's Resources operation (`POST /providers/Microsoft.ResourceGraph/resources`,
api-version 2022-10-01), for the `resources` queries the product sends (shared/domain/discovery.py).

The request names `subscriptions` or `managementGroups` (neither: every subscription the sandbox
knows, as a tenant-scoped query); a management group covers the subscriptions the scenario puts
under it (`managementGroups:`). Only registries are in the `resources` table here. The query is
read with a small grammar of pipe-separated operators: `resources`, `where type =~ '<type>'`,
`where <term> or <term>...` with terms `subscriptionId == '<id>'` and
`(subscriptionId == '<id>' and resourceGroup =~ '<name>')`, `where tags['<key>'] =~ '<value>'`,
`project id[, name, ...]`, `order by id asc`; anything else is refused as Resource Graph refuses a
query it cannot parse (400 `BadRequest`, detail `InvalidQuery`). Rows come in pages of `$top`
(at most 1000) with a `$skipToken` while more remain; `resultFormat` `objectArray` only.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from sandbox.arm_acr import Handler
from sandbox.env import Env
from sandbox.errors import ServiceError
from sandbox.state import Registry
from sandbox.wire import Request, Response, json_response

API_VERSIONS = frozenset({"2021-03-01", "2022-10-01", "2024-04-01"})
_MAX_TOP = 1000
_TERM = re.compile(
    r"^\(?\s*subscriptionId\s*==\s*'(?P<sub>[^']+)'"
    r"(?:\s+and\s+resourceGroup\s*=~\s*'(?P<rg>[^']+)'\s*\))?\s*$"
)
_TYPE = re.compile(r"^where\s+type\s*=~\s*'(?P<type>[^']+)'$")
_TAG = re.compile(r"^where\s+tags\['(?P<key>[^']+)'\]\s*=~\s*'(?P<value>[^']*)'$")
_PROJECT = re.compile(r"^project\s+(?P<columns>\w+(?:\s*,\s*\w+)*)$")


class _InvalidQueryError(Exception):
    """A query outside the emulated grammar."""


def _invalid(detail: str) -> _InvalidQueryError:
    return _InvalidQueryError(detail)


def _refused(error: _InvalidQueryError) -> Response:
    """Resource Graph's answer to a query it cannot parse: BadRequest with an InvalidQuery detail."""
    invalid = (
        "Query is invalid. Please refer to the documentation for the Azure Resource Graph service "
        "and fix the error before retrying."
    )
    details = [
        {"code": "InvalidQuery", "message": invalid},
        {"code": "ParserFailure", "message": str(error)},
    ]
    message = "Please provide below info when asking for support: timestamp, correlation id."
    return json_response(
        400, {"error": {"code": "BadRequest", "message": message, "details": details}}
    )


def _row(registry: Registry) -> dict[str, Any]:
    return {
        "id": registry.id,
        "name": registry.name,
        "type": "microsoft.containerregistry/registries",
        "location": registry.location,
        "resourceGroup": registry.resource_group.lower(),
        "subscriptionId": registry.subscription,
        "tags": dict(registry.tags),
    }


def _where(clause: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if found := _TYPE.match(clause):
        return [r for r in rows if r["type"] == found.group("type").lower()]
    if found := _TAG.match(clause):
        key, value = found.group("key").lower(), found.group("value").lower()
        return [r for r in rows if any(k.lower() == key and str(v).lower() == value
                                       for k, v in r["tags"].items())]  # fmt: skip
    terms = [_TERM.match(t) for t in re.split(r"\s+or\s+", clause.removeprefix("where").strip())]
    if not clause.startswith("where ") or not all(terms):
        raise _invalid(f"Unsupported filter: {clause[:120]}")

    def kept(row: dict[str, Any]) -> bool:
        for term in filter(None, terms):
            if row["subscriptionId"].lower() != term.group("sub").lower():
                continue
            group = term.group("rg")
            if group is None or row["resourceGroup"] == group.lower():
                return True
        return False

    return [r for r in rows if kept(r)]


def _evaluate(query: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    clauses = [c.strip() for c in query.split("|")]
    if not clauses or clauses[0].lower() != "resources":
        raise _invalid("Only the resources table is emulated.")
    columns: list[str] | None = None
    for clause in clauses[1:]:
        if clause.startswith("where "):
            rows = _where(clause, rows)
        elif found := _PROJECT.match(clause):
            columns = [c.strip() for c in found.group("columns").split(",")]
        elif clause in ("order by id asc", "sort by id asc"):
            rows = sorted(rows, key=lambda r: str(r["id"]).lower())
        else:
            raise _invalid(f"Unsupported operator: {clause[:120]}")
    return [{c: r[c] for c in columns if c in r} for r in rows] if columns else rows


def _scope_subscriptions(env: Env, body: dict[str, Any]) -> set[str]:
    subscriptions, groups = body.get("subscriptions"), body.get("managementGroups")
    if subscriptions is not None and not isinstance(subscriptions, list):
        raise ServiceError(400, "BadRequest", "subscriptions must be an array of strings")
    if groups is not None and not isinstance(groups, list):
        raise ServiceError(400, "BadRequest", "managementGroups must be an array of strings")
    if subscriptions:
        return {str(s).lower() for s in subscriptions}
    if groups:
        known = {k.lower(): v for k, v in env.state.management_groups.items()}
        return {str(s).lower() for g in groups for s in known.get(str(g).lower(), [])}
    return {r.subscription.lower() for r in env.state.registries.values()}


def query_resources(env: Env, req: Request, p: dict[str, str]) -> Response:
    """Resources: the query's rows over the requested scope, one page."""
    try:
        body = json.loads(req.body or b"{}")
    except ValueError:
        raise ServiceError(400, "BadRequest", "The request body is not valid JSON.") from None
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        raise ServiceError(400, "BadRequest", "The request must carry a query string.")
    options = body.get("options") or {}
    if options.get("resultFormat", "objectArray") != "objectArray":
        raise ServiceError(400, "BadRequest", "Only resultFormat objectArray is emulated.")
    top = int(options.get("$top", 100))
    if not 1 <= top <= _MAX_TOP:
        raise ServiceError(400, "BadRequest", f"$top must be from 1 to {_MAX_TOP}.")
    scope = _scope_subscriptions(env, body)
    rows = [_row(r) for r in env.state.registries.values() if r.subscription.lower() in scope]
    try:
        rows = _evaluate(body["query"], rows)
    except _InvalidQueryError as error:
        return _refused(error)
    token = options.get("$skipToken")
    start = int(base64.b64decode(token).decode()) if token else int(options.get("$skip", 0))
    page = rows[start : start + top]
    answer: dict[str, Any] = {
        "totalRecords": len(rows), "count": len(page), "data": page,
        "facets": [], "resultTruncated": "false",
    }  # fmt: skip
    if start + top < len(rows):
        answer["$skipToken"] = base64.b64encode(str(start + top).encode()).decode()
    return json_response(200, answer)


ROUTES: list[tuple[set[str], re.Pattern[str], Handler]] = [
    ({"POST"}, re.compile(r"^/providers/Microsoft\.ResourceGraph/resources$", re.IGNORECASE),
     query_resources),
]  # fmt: skip
