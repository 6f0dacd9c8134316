"""A function app whose two GET routes can both match `/audit/latest`, which the local host must
refuse at start-up (the Functions host gives no order between them)."""

from __future__ import annotations

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.function_name("latest")
@app.route(route="audit/latest", methods=["GET"])
def latest(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("latest")


@app.function_name("by_id")
@app.route(route="audit/{id}", methods=["GET"])
def by_id(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(req.route_params["id"])
