"""GET /api/openapi.json: the admin API as OpenAPI 3.0, built from the one route table
(functions/_api_spec.py) that a contract test keeps equal to the indexed functions."""

from __future__ import annotations

from functools import cache
from typing import Any

import azure.functions as func

from functions._api_spec import OPERATIONS, SCHEMAS, Operation
from functions._http import json_response

bp = func.Blueprint()
ROUTE_PREFIX = "/api"


def _operation(op: Operation) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status, description in op.responses.items():
        if status == "204":
            responses[status] = {"description": description}
        elif status.startswith("2"):
            responses[status] = {
                "description": description,
                "content": {
                    op.media: {"schema": {"type": "string"} if op.media == "text/html" else {}}
                },
            }
        else:
            responses[status] = {"$ref": "#/components/responses/Problem"}
    responses.setdefault("400", {"$ref": "#/components/responses/Problem"})
    responses["503"] = {"$ref": "#/components/responses/Problem"}
    document: dict[str, Any] = {
        "operationId": f"{op.function}_{op.method.lower()}",
        "summary": op.summary,
        "tags": [op.route.split("/")[0].replace(".json", "")],
        "responses": responses,
    }
    if op.parameters:
        document["parameters"] = [dict(p) for p in op.parameters]
    if op.body is not None:
        document["requestBody"] = {
            "required": op.body_required,
            "content": {"application/json": {"schema": op.body}},
        }
    if op.anonymous:
        document["security"] = []
    return document


@cache
def openapi_document() -> dict[str, Any]:
    """The OpenAPI document for every HTTP route of the app."""
    from shared import __version__

    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(f"{ROUTE_PREFIX}/{op.route}", {})[op.method.lower()] = _operation(op)
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


@bp.function_name("openapi")
@bp.route(route="openapi.json", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
def openapi(req: func.HttpRequest) -> func.HttpResponse:
    return json_response(openapi_document())
