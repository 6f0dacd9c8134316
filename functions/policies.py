"""Admin API for the policy table.

GET    /api/policies                      every row (with ETags)
GET    /api/policies/{id}                 one row; ETag header
PUT    /api/policies/{id}                 create or replace; If-Match: <etag> or * -> 412 when stale
DELETE /api/policies/{id}                 delete; If-Match honoured the same way
POST   /api/policies/import[?dry_run=true][&allow_empty=true]
                                          whole table, JSON or YAML {"version": 1, ...}, all or nothing
GET    /api/export/policies[?format=yaml] whole table as JSON (default) or YAML
POST   /api/policies/test                 {"upstream"|"target", "registry"?}: decision and dry run
GET    /api/pull-policies                 every pull row (who may be given pull rights where)
PUT    /api/pull-policies/{id}            create or replace a pull row
DELETE /api/pull-policies/{id}            delete a pull row
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import azure.functions as func

from functions._http import caller_name, flag, json_response, read_document, read_json
from functions._problems import ErrorTable, Problem
from functions._responses import (
    EXPORT,
    IMPORTED,
    POLICY_LIST,
    PULL_POLICY,
    PULL_POLICY_LIST,
    STORED_POLICY,
    TESTED,
)
from functions._routes import PRECONDITION_FAILED, Op, admin_route
from functions._schemas import DRY_RUN, IF_MATCH, POLICY, REPOSITORY_REQUEST, path_param
from shared.errors import (
    ConcurrencyError,
    InvalidInputError,
    UnsupportedDocumentVersionError,
)

if TYPE_CHECKING:
    from shared.services import Context

bp = func.Blueprint()
MAX_IMPORT_BYTES = 1024 * 1024  # a full table (2,000 rows) fits; anything bigger is a mistake
_ID = path_param("id")
_STALE_ETAG: ErrorTable = {ConcurrencyError: PRECONDITION_FAILED}


def _if_match(req: func.HttpRequest) -> str | None:
    value = req.headers.get("if-match")
    return value.strip() if value is not None else None


def _row(stored: Any, **extra: Any) -> func.HttpResponse:
    response = json_response({**stored.policy.to_dict(), "etag": stored.etag, **extra})
    response.headers["ETag"] = stored.etag
    return response


@admin_route(
    bp,
    "policies",
    name="list_policies",
    get=Op("Every policy row with its ETag", schema=POLICY_LIST),
)
def list_policies(req: func.HttpRequest, ctx: Context) -> dict[str, Any]:
    from shared.services import policies

    rows = policies.list_policies(ctx)
    return {"policies": [{**r.policy.to_dict(), "etag": r.etag} for r in rows]}


@admin_route(
    bp,
    "policies/{id}",
    name="policy",
    get=Op(
        "One policy row",
        schema=STORED_POLICY,
        params=(_ID,),
        responses={"200": "the row", "404": "no such row"},
    ),
    put=Op(
        "Create or replace a policy row",
        schema=STORED_POLICY,
        params=(_ID, IF_MATCH),
        request=POLICY,
        request_required=True,
        responses={"200": "the stored row", "400": "invalid row", "412": "stale ETag"},
    ),
    delete=Op(
        "Delete a policy row",
        params=(_ID, IF_MATCH),
        responses={"204": "deleted", "404": "no such row", "412": "stale ETag"},
    ),
    errors=_STALE_ETAG,
)
def policy(req: func.HttpRequest, ctx: Context) -> func.HttpResponse:
    from shared.services import policies

    policy_id = req.route_params["id"]
    if_match = _if_match(req)
    if if_match == "*":  # "any current version": the row must exist
        if_match = policies.get_policy(ctx, policy_id).etag
    if req.method == "GET":
        return _row(policies.get_policy(ctx, policy_id))
    if req.method == "DELETE":
        policies.delete_policy(ctx, policy_id, if_match=if_match)
        return func.HttpResponse(status_code=204)
    stored, warnings = policies.put_policy(
        ctx, policy_id, read_json(req), if_match=if_match, changed_by=caller_name(req)
    )
    return _row(stored, warnings=warnings)


def _read_document(req: func.HttpRequest) -> Any:
    """The import document, JSON or YAML by content type, up to MAX_IMPORT_BYTES."""
    return read_document(req, max_bytes=MAX_IMPORT_BYTES)


_IMPORT_BODY = {
    "type": "object",
    "required": ["version", "policies"],
    "properties": {
        "version": {"type": "integer", "enum": [1], "description": "the document format"},
        "policies": {"type": "array", "items": POLICY},
        "pullPolicies": {"type": "array", "items": {"type": "object"}},
    },
}
_ALLOW_EMPTY = {"name": "allow_empty", "in": "query", "schema": {"type": "boolean"},
                "description": "let the import replace the rows with nothing"}  # fmt: skip


def _supported_versions(error: UnsupportedDocumentVersionError) -> dict[str, Any]:
    return {"supportedVersions": list(error.supported)}


_IMPORT_ERRORS: ErrorTable = {
    **_STALE_ETAG,
    UnsupportedDocumentVersionError: Problem(members=_supported_versions),
}


@admin_route(
    bp,
    "policies/import",
    name="import_policies",
    post=Op(
        "Replace the whole policy table",
        schema=IMPORTED,
        params=(DRY_RUN, _ALLOW_EMPTY),
        request=_IMPORT_BODY,
        request_required=True,
        responses={
            "200": "what changed",
            "400": "invalid document, or no or an unsupported version (supportedVersions)",
            "422": "the document replaces the rows with nothing and allow_empty is not set",
        },
    ),
    errors=_IMPORT_ERRORS,
)
def import_policies(req: func.HttpRequest, ctx: Context) -> dict[str, Any]:
    from shared.services import policies

    result = policies.import_policies(
        ctx,
        _read_document(req),
        dry_run=flag(req, "dry_run"),
        changed_by=caller_name(req),
        allow_empty=flag(req, "allow_empty"),
    )
    return result.to_dict()


_FORMAT = {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["json", "yaml"]}}


@admin_route(
    bp,
    "export/policies",
    name="export_policies",
    get=Op("The whole policy table", schema=EXPORT, params=(_FORMAT,)),
)
def export_policies(req: func.HttpRequest, ctx: Context) -> func.HttpResponse:
    from shared.services import policies

    asked = (req.params.get("format") or "json").strip().lower()
    if asked not in ("json", "yaml"):
        raise InvalidInputError("format must be json or yaml")
    fmt: policies.ExportFormat = "yaml" if asked == "yaml" else "json"
    text = policies.dump_document(policies.export_policies(ctx), fmt)
    return func.HttpResponse(text, status_code=200, mimetype=f"application/{fmt}")


@admin_route(
    bp,
    "policies/test",
    name="test_policies",
    post=Op(
        "Which row decides a request, and what it would do",
        schema=TESTED,
        request=REPOSITORY_REQUEST,
        request_required=True,
    ),
)
def test_policies(req: func.HttpRequest, ctx: Context) -> dict[str, Any]:
    from shared.services import policies

    return policies.explain_request(ctx, read_json(req))


_PULL_POLICY: dict[str, Any] = {
    "type": "object",
    "description": "Who may be given pull rights where: principalId or servicePrincipalNamePrefix, registry, repository.",
}


@admin_route(
    bp,
    "pull-policies",
    name="list_pull_policies",
    get=Op("Every pull row", schema=PULL_POLICY_LIST),
)
def list_pull_policies(req: func.HttpRequest, ctx: Context) -> dict[str, Any]:
    from shared.services import pull_policies

    return {"pullPolicies": [p.to_dict() for p in pull_policies.list_pull_policies(ctx)]}


@admin_route(
    bp,
    "pull-policies/{id}",
    name="pull_policy",
    put=Op(
        "Create or replace a pull row",
        schema=PULL_POLICY,
        params=(_ID,),
        request=_PULL_POLICY,
        request_required=True,
        responses={"200": "the stored row", "400": "invalid row"},
    ),
    delete=Op(
        "Delete a pull row", params=(_ID,), responses={"204": "deleted", "404": "no such row"}
    ),
)
def pull_policy(req: func.HttpRequest, ctx: Context) -> func.HttpResponse | dict[str, Any]:
    from shared.services import pull_policies

    policy_id = req.route_params["id"]
    if req.method == "DELETE":
        pull_policies.delete_pull_policy(ctx, policy_id)
        return func.HttpResponse(status_code=204)
    return pull_policies.put_pull_policy(ctx, policy_id, read_json(req)).to_dict()
