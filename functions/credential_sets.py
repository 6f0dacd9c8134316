"""Admin API for credential sets.

POST /api/credential-sets/{registry}/{name}/sync[?dry_run=true]  newest valid secret versions
GET  /api/credential-sets/{registry}/{name}/access               can its identity read its secrets
GET  /api/credential-sets/declared[?format=json|yaml]            every declaration (or the document)
PUT  /api/credential-sets/declared[?dry_run=true]                import: exactly these declarations
GET/PUT/DELETE /api/credential-sets/declared/{name}              one declaration; If-Match honoured
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import azure.functions as func

from functions._http import flag, json_response, read_document, read_json
from functions._problems import ErrorTable
from functions._responses import ACCESS, DECLARED_IMPORT, DECLARED_SET, DECLARED_SETS, REACTION
from functions._routes import PRECONDITION_FAILED, Op, admin_route
from functions._schemas import DRY_RUN, IF_MATCH, REGISTRY, path_param
from shared.errors import ConcurrencyError, InvalidInputError

if TYPE_CHECKING:
    from shared.services import Context

bp = func.Blueprint()
_NAME = path_param("name")


@admin_route(
    bp,
    "credential-sets/{registry}/{name}/sync",
    name="sync_credential_set",
    post=Op(
        "Move a credential set to the newest valid secret versions",
        schema=REACTION,
        params=(REGISTRY, _NAME, DRY_RUN),
        responses={"200": "the reaction", "404": "not found"},
    ),
)
def sync_credential_set(req: func.HttpRequest, ctx: Context) -> dict[str, Any]:
    from shared.services import sync_credential_set as sync

    dry_run = flag(req, "dry_run")
    reaction = sync(ctx, req.route_params["registry"], req.route_params["name"], dry_run=dry_run)
    return reaction.to_dict()


@admin_route(
    bp,
    "credential-sets/{registry}/{name}/access",
    name="credential_set_access",
    get=Op(
        "Can the credential set's identity read its secrets",
        schema=ACCESS,
        params=(REGISTRY, _NAME),
        responses={"200": "the diagnosis", "404": "not found"},
    ),
)
def credential_set_access(req: func.HttpRequest, ctx: Context) -> dict[str, Any]:
    from shared.services.pull_failures import access_report

    reaction = access_report(ctx, req.route_params["registry"], req.route_params["name"])
    return reaction.to_dict()


_DECLARATION: dict[str, Any] = {
    "type": "object",
    "description": "A declared credential set: name, loginServer, username and password secret "
    "URIs (allow-listed vaults), registries (names or *), absent.",
    "properties": {
        "name": {"type": "string"},
        "loginServer": {"type": "string", "example": "docker.io"},
        "username": {"type": "string"},
        "password": {"type": "string"},
        "registries": {"type": "array", "items": {"type": "string"}},
        "absent": {"type": "boolean"},
    },
}
_DOCUMENT = {
    "type": "object",
    "required": ["version", "credentialSets"],
    "properties": {
        "version": {"type": "integer", "enum": [1]},
        "credentialSets": {"type": "array", "items": _DECLARATION},
    },
}
_FORMAT = {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["json", "yaml"]},
           "description": "answer the declarations as an import document in this format"}  # fmt: skip
_MAX_DOCUMENT_BYTES = 1024 * 1024
_STALE_ETAG: ErrorTable = {ConcurrencyError: PRECONDITION_FAILED}


@admin_route(
    bp,
    "credential-sets/declared",
    name="declared_credential_sets",
    get=Op(
        "Every declared credential set, or the import document",
        params=(_FORMAT,),
        schema=DECLARED_SETS,
    ),
    put=Op(
        "Make the declared credential sets exactly the document's",
        params=(DRY_RUN,),
        request=_DOCUMENT,
        request_required=True,
        schema=DECLARED_IMPORT,
        responses={"200": "what was written and deleted", "400": "invalid document"},
    ),
)
def declared_credential_sets(req: func.HttpRequest, ctx: Context) -> func.HttpResponse:
    from shared.services import declared_sets
    from shared.services.policy_documents import dump_document

    if req.method == "PUT":
        document = read_document(req, max_bytes=_MAX_DOCUMENT_BYTES)
        result = declared_sets.import_declared(ctx, document, dry_run=flag(req, "dry_run"))
        return json_response(result.to_dict())
    asked = req.params.get("format")
    if asked is None:
        rows = declared_sets.list_declared(ctx)
        return json_response(
            {"credentialSets": [{**r.declaration.to_dict(), "etag": r.etag} for r in rows]}
        )
    fmt = asked.strip().lower()
    if fmt not in ("json", "yaml"):
        raise InvalidInputError("format must be json or yaml")
    text = dump_document(declared_sets.export_declared(ctx), "yaml" if fmt == "yaml" else "json")
    return func.HttpResponse(text, status_code=200, mimetype=f"application/{fmt}")


@admin_route(
    bp,
    "credential-sets/declared/{name}",
    name="declared_credential_set",
    get=Op("One declared credential set", params=(_NAME,), schema=DECLARED_SET,
           responses={"200": "the declaration", "404": "not declared"}),
    put=Op(
        "Declare a credential set (create or replace)",
        params=(_NAME, IF_MATCH),
        request=_DECLARATION,
        request_required=True,
        schema=DECLARED_SET,
        responses={"200": "the stored declaration", "400": "invalid declaration", "412": "stale ETag"},
    ),
    delete=Op(
        "Forget a declaration (the credential set itself is left alone)",
        params=(_NAME, IF_MATCH),
        responses={"204": "deleted", "404": "not declared", "412": "stale ETag"},
    ),
    errors=_STALE_ETAG,
)  # fmt: skip
def declared_credential_set(req: func.HttpRequest, ctx: Context) -> func.HttpResponse:
    from shared.services import declared_sets

    name = req.route_params["name"]
    value = req.headers.get("if-match")
    if_match = value.strip() if value is not None else None
    if if_match == "*":  # "any current version": the declaration must exist
        if_match = declared_sets.get_declared(ctx, name).etag
    if req.method == "DELETE":
        declared_sets.delete_declared(ctx, name, if_match=if_match)
        return func.HttpResponse(status_code=204)
    if req.method == "GET":
        stored = declared_sets.get_declared(ctx, name)
    else:
        stored = declared_sets.put_declared(ctx, name, read_json(req), if_match=if_match)
    response = json_response({**stored.declaration.to_dict(), "etag": stored.etag})
    response.headers["ETag"] = stored.etag
    return response
