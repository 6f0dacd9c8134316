"""GET /api/openapi.json: the admin API as OpenAPI 3.0, built from the operations every
`@admin_route` records, so a route is described where it is declared; GET /api/docs: a page that
renders it (`functions/api_docs.html`, bundled: no CDN, the dashboard's strict CSP)."""

from __future__ import annotations

from functools import cache
from typing import Any

import azure.functions as func

from functions._pages import html_response
from functions._responses import OPENAPI
from functions._routes import Op, Operation, admin_route, operations
from functions._schemas import SCHEMAS

bp = func.Blueprint()
ROUTE_PREFIX = "/api"
_PROBLEM = {"$ref": "#/components/responses/Problem"}


def _responses(op: Op) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status, description in op.responses.items():
        if status == "204":
            responses[status] = {"description": description}
        elif status.startswith("2"):
            schema = {"type": "string"} if op.media == "text/html" else dict(op.schema or {})
            responses[status] = {
                "description": description,
                "content": {op.media: {"schema": schema}},
            }
        else:
            responses[status] = dict(_PROBLEM)
    responses.setdefault("400", dict(_PROBLEM))
    responses["503"] = dict(_PROBLEM)
    return responses


def _operation(operation: Operation) -> dict[str, Any]:
    op = operation.op
    document: dict[str, Any] = {
        "operationId": f"{operation.function}_{operation.method.lower()}",
        "summary": op.summary,
        "tags": [operation.route.split("/")[0].replace(".json", "")],
        "responses": _responses(op),
    }
    if op.params:
        document["parameters"] = [dict(p) for p in op.params]
    if op.request is not None:
        document["requestBody"] = {
            "required": op.request_required,
            "content": {"application/json": {"schema": op.request}},
        }
    if operation.anonymous:
        document["security"] = []
    return document


@cache
def openapi_document() -> dict[str, Any]:
    """The OpenAPI document for every HTTP route of the app."""
    from functions import blueprints
    from shared import __version__

    paths: dict[str, dict[str, Any]] = {}
    for operation in operations(blueprints()):
        path = f"{ROUTE_PREFIX}/{operation.route}"
        paths.setdefault(path, {})[operation.method.lower()] = _operation(operation)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "cachekeeper admin API",
            "version": __version__,
            "description": "Keeps Azure Container Registry artifact cache healthy. Every route but "
            "health needs a function key (x-functions-key header or code query parameter); errors "
            "are application/problem+json.",
        },
        "servers": [{"url": "/"}],
        "security": [{"functionKey": []}, {"functionKeyQuery": []}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "securitySchemes": {
                "functionKey": {"type": "apiKey", "in": "header", "name": "x-functions-key"},
                "functionKeyQuery": {"type": "apiKey", "in": "query", "name": "code"},
            },
            "schemas": SCHEMAS,
            "responses": {
                "Problem": {
                    "description": "problem details",
                    "content": {
                        "application/problem+json": {
                            "schema": {"$ref": "#/components/schemas/Problem"}
                        }
                    },
                }
            },
        },
    }


@admin_route(bp, "openapi.json", name="openapi", get=Op("This document", schema=OPENAPI))
def openapi(req: func.HttpRequest) -> dict[str, Any]:
    return openapi_document()


@admin_route(
    bp,
    "docs",
    name="api_docs",
    get=Op(
        "This document as a page to read (HTML)", responses={"200": "the page"}, media="text/html"
    ),
)
def api_docs(req: func.HttpRequest) -> func.HttpResponse:
    return html_response("api_docs.html")
