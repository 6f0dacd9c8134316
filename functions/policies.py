"""Admin API for the policy table.

GET    /api/policies                      every row (with ETags)
GET    /api/policies/{id}                 one row; ETag header
PUT    /api/policies/{id}                 create or replace; If-Match: <etag> or * -> 412 when stale
DELETE /api/policies/{id}                 delete; If-Match honoured the same way
POST   /api/policies/import[?dry_run=true] whole table, JSON or YAML body, all or nothing
GET    /api/policies/export[?format=yaml] whole table as JSON (default) or YAML
POST   /api/policies/test                 {"upstream"|"target", "registry"?}: decision and dry run
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import azure.functions as func

from functions._http import flag, guarded, json_response, problem, read_json
from shared.errors import (
    ConcurrencyError,
    InvalidInputError,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
)

bp = func.Blueprint()
MAX_IMPORT_BYTES = 1024 * 1024  # a full table (2,000 rows) fits; anything bigger is a mistake
_YAML_TYPES = {"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"}


def _changed_by(req: func.HttpRequest) -> str:
    # Set by App Service authentication (Entra ID) when it fronts the app; a function key has no name.
    return (req.headers.get("x-ms-client-principal-name") or "admin-api").strip()[:128]


def _if_match(req: func.HttpRequest) -> str | None:
    value = req.headers.get("if-match")
    return value.strip() if value is not None else None


def _row(stored: Any, **extra: Any) -> func.HttpResponse:
    response = json_response({**stored.policy.to_dict(), "etag": stored.etag, **extra})
    response.headers["ETag"] = stored.etag
    return response


def _concurrency_guarded(
    handler: Callable[[], func.HttpResponse], req: func.HttpRequest | None = None
) -> func.HttpResponse:
    def run() -> func.HttpResponse:
        try:
            return handler()
        except ConcurrencyError as error:
            # An ETag mismatch is the caller's precondition failing, not a reason to retry blindly.
            return problem(412, "PreconditionFailed", error.message, code=error.code)

    return guarded(run, req)


@bp.function_name("list_policies")
@bp.route(route="policies", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
def list_policies(req: func.HttpRequest) -> func.HttpResponse:
    def handle() -> func.HttpResponse:
        from shared.bootstrap import context
        from shared.services import policies

        rows = policies.list_policies(context())
        return json_response({"policies": [{**r.policy.to_dict(), "etag": r.etag} for r in rows]})

    return guarded(handle, req)


@bp.function_name("policy")
@bp.route(
    route="policies/{id}", methods=["GET", "PUT", "DELETE"], auth_level=func.AuthLevel.FUNCTION
)
def policy(req: func.HttpRequest) -> func.HttpResponse:
    def handle() -> func.HttpResponse:
        from shared.bootstrap import context
        from shared.services import policies

        ctx, policy_id = context(), req.route_params["id"]
        if_match = _if_match(req)
        if if_match == "*":  # "any current version": the row must exist
            if_match = policies.get_policy(ctx, policy_id).etag
        if req.method == "GET":
            return _row(policies.get_policy(ctx, policy_id))
        if req.method == "DELETE":
            policies.delete_policy(ctx, policy_id, if_match=if_match)
            return func.HttpResponse(status_code=204)
        stored, warnings = policies.put_policy(
            ctx, policy_id, read_json(req), if_match=if_match, changed_by=_changed_by(req)
        )
        return _row(stored, warnings=warnings)

    return _concurrency_guarded(handle, req)


def _read_document(req: func.HttpRequest) -> Any:
    from shared.services.policies import load_document

    body = req.get_body() or b""
    if len(body) > MAX_IMPORT_BYTES:
        raise PayloadTooLargeError(f"request body is larger than {MAX_IMPORT_BYTES} bytes")
    kind = (req.headers.get("content-type") or "application/json").split(";")[0].strip().lower()
    if kind in _YAML_TYPES:
        return load_document(body, "yaml")
    if kind == "application/json" or kind.endswith("+json"):
        try:
            return load_document(body, "json")
        except InvalidInputError as error:
            raise UnsupportedMediaTypeError(error.message) from None
    raise UnsupportedMediaTypeError(f"content type {kind!r} is neither JSON nor YAML")


@bp.function_name("import_policies")
@bp.route(route="policies/import", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
def import_policies(req: func.HttpRequest) -> func.HttpResponse:
    def handle() -> func.HttpResponse:
        from shared.bootstrap import context
        from shared.services import policies

        result = policies.import_policies(
            context(),
            _read_document(req),
            dry_run=flag(req, "dry_run"),
            changed_by=_changed_by(req),
        )
        return json_response(result.to_dict())

    return _concurrency_guarded(handle, req)


@bp.function_name("export_policies")
@bp.route(route="policies/export", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
def export_policies(req: func.HttpRequest) -> func.HttpResponse:
    def handle() -> func.HttpResponse:
        from shared.bootstrap import context
        from shared.services import policies

        asked = (req.params.get("format") or "json").strip().lower()
        if asked not in ("json", "yaml"):
            raise InvalidInputError("format must be json or yaml")
        fmt: policies.ExportFormat = "yaml" if asked == "yaml" else "json"
        text = policies.dump_document(policies.export_policies(context()), fmt)
        mimetype = f"application/{fmt}"
        return func.HttpResponse(text, status_code=200, mimetype=mimetype)

    return guarded(handle, req)


@bp.function_name("test_policies")
@bp.route(route="policies/test", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
def test_policies(req: func.HttpRequest) -> func.HttpResponse:
    def handle() -> func.HttpResponse:
        from shared.bootstrap import context
        from shared.services import policies

        return json_response(policies.explain_request(context(), read_json(req)))

    return guarded(handle, req)
