"""Errors to RFC 9457 problem+json, through one table looked up by the error's type.

The lookup walks the error's class hierarchy, most specific class first, and takes the first entry
it finds (a route's own entries, then the table): `CachekeeperError`s answer with their status,
class name, message and code; transient ones add Retry-After; anything else is logged and answered
500 without details. Messages never carry secret material.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import azure.functions as func

from shared.errors import CachekeeperError, RoleDeniedError, TransientError

__all__ = ["ErrorTable", "Problem", "problem", "problem_response"]

log = logging.getLogger(__name__)
_DEFAULT_RETRY_AFTER = 5


@dataclass(frozen=True, slots=True)
class Problem:
    """How one class of error is answered; None takes the value from the error itself."""

    status: int | None = None  # the error's http_status
    title: str | None = None  # the error's class name
    detail: str | None = None  # the error's message
    code: str | None = None  # the error's code
    retry_after: bool = False
    members: Callable[[Any], dict[str, Any]] | None = None  # extension members of the body
    unexpected: bool = False  # log the traceback: a bug, not a refusal


ErrorTable = Mapping[type[BaseException], Problem]


def _stale_plan_members(error: Any) -> dict[str, Any]:
    members: dict[str, Any] = {"plan": error.current.to_dict()}
    return members


@cache
def _table() -> dict[type[BaseException], Problem]:
    # Built on the first error, not at import: the stale-plan error lives with its use case.
    from shared.services.plans import StalePlanError

    return {
        StalePlanError: Problem(title="StalePlan", members=_stale_plan_members),
        RoleDeniedError: Problem(title="Forbidden"),
        TransientError: Problem(retry_after=True),
        CachekeeperError: Problem(),
        Exception: Problem(
            status=500,
            title="Internal Server Error",
            detail="an unexpected error occurred; see the logs",
            code="Internal",
            unexpected=True,
        ),
    }


def _lookup(error: BaseException, route_table: ErrorTable) -> Problem:
    table = _table()
    for cls in type(error).__mro__:
        found = route_table.get(cls) or table.get(cls)
        if found is not None:
            return found
    return table[Exception]


def problem(
    status: int,
    *,
    title: str,
    detail: str,
    code: str | None = None,
    members: Mapping[str, Any] | None = None,
) -> func.HttpResponse:
    """An RFC 9457 problem+json response: the one way an error status is answered. Extension
    `members` never replace the standard ones."""
    if status < 400:
        raise ValueError(f"status {status} is not an error")
    body: dict[str, Any] = {**(members or {})}
    body.update({"type": "about:blank", "title": title, "status": status, "detail": detail})
    if code is not None:
        body["code"] = code
    return func.HttpResponse(
        json.dumps(body, sort_keys=True, default=str),
        status_code=status,
        mimetype="application/problem+json",
    )


def problem_response(error: Exception, route_table: ErrorTable | None = None) -> func.HttpResponse:
    """The problem+json response for `error` (`route_table` entries win over the table's)."""
    answer = _lookup(error, route_table or {})
    if answer.unexpected:
        log.error("unhandled error in an admin endpoint", exc_info=error)
    status = int(answer.status or getattr(error, "http_status", None) or 500)
    members = answer.members(error) if answer.members is not None else {}
    response = problem(
        status,
        title=answer.title or type(error).__name__,
        detail=str(answer.detail or getattr(error, "message", "")),
        code=answer.code or getattr(error, "code", None),
        members=members,
    )
    if answer.retry_after:
        retry = getattr(error, "retry_after", None) or _DEFAULT_RETRY_AFTER
        response.headers["Retry-After"] = str(int(retry))
    return response
