"""HTTP helpers shared by the admin blueprints: JSON and problem+json responses, body limits."""

from __future__ import annotations

import json
from typing import Any

import azure.functions as func

from shared.errors import CachekeeperError

__all__ = ["MAX_BODY_BYTES", "json_response", "problem", "problem_from_error"]

MAX_BODY_BYTES = 256 * 1024


def json_response(body: Any, *, status_code: int = 200) -> func.HttpResponse:
    """A JSON response with a stable key order."""
    return func.HttpResponse(
        json.dumps(body, sort_keys=True, default=str),
        status_code=status_code,
        mimetype="application/json",
    )


def problem(status: int, title: str, detail: str, *, code: str | None = None) -> func.HttpResponse:
    """An RFC 9457 problem details response."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if code is not None:
        body["code"] = code
    return func.HttpResponse(
        json.dumps(body, sort_keys=True), status_code=status, mimetype="application/problem+json"
    )


def problem_from_error(error: CachekeeperError) -> func.HttpResponse:
    """Map one of our errors to problem+json; the message never carries secret material."""
    return problem(error.http_status, type(error).__name__, error.message, code=error.code)
