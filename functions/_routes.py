"""HTTP routes declared once: `@admin_route` registers the Functions HTTP trigger and records
the route's OpenAPI operations on its blueprint, from which `GET /api/openapi.json` is built.

    @admin_route(bp, "policies/{id}", name="policy",
                 get=Op("One policy row", params=(path_param("id"),), responses={...}),
                 errors={ConcurrencyError: PRECONDITION_FAILED})
    def policy(req: func.HttpRequest, ctx: Context) -> func.HttpResponse | JSON: ...

The trigger is the function `name` on `route` for the methods given (get=, post=, put=, delete=),
with a function key (AuthLevel.FUNCTION) unless `anonymous`. Every call runs in the invocation's
log scope (its invocation id and the platform's request id, `shared.log_context`), first passes the App-role
check on writes, then runs the handler: with `(req)` alone, or `(req, ctx)` and the context is
built then, on first use; after a handler with the context that is not a GET, the events it
queued are published (`shared/services/event_publisher.py`). A handler returns an HttpResponse or a JSON-able body (200); whatever
it raises is answered through the error table of `functions/_problems.py` (`errors` adds this
route's own entries).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

import azure.functions as func

from functions._http import json_response, require_app_role
from functions._problems import ErrorTable, Problem, problem_response
from shared.log_context import function_invocation

__all__ = [
    "JSON",
    "PRECONDITION_FAILED",
    "REQUEST_ID_HEADERS",
    "Op",
    "Operation",
    "admin_route",
    "operations",
    "request_id_of",
]

JSON = "application/json"
# the App Service front end's id of the request (a header a caller could also send, so only an
# id-shaped value is kept)
REQUEST_ID_HEADERS = ("x-arr-log-id",)
_SAFE_ID = re.compile(r"[A-Za-z0-9{}-]{1,128}", re.ASCII)
Handler = TypeVar("Handler", bound=Callable[..., object])

# An ETag mismatch is the caller's precondition failing, not a reason to retry blindly.
PRECONDITION_FAILED = Problem(status=412, title="PreconditionFailed")


@dataclass(frozen=True, slots=True)
class Op:
    """The OpenAPI description of one method of a route."""

    summary: str
    params: tuple[dict[str, Any], ...] = ()
    request: dict[str, Any] | None = None  # JSON schema of the request body
    request_required: bool = False
    responses: Mapping[str, str] = field(default_factory=lambda: {"200": "the result"})
    media: str = JSON  # of the success response
    schema: dict[str, Any] | None = None  # JSON schema of the success (2xx) JSON body


@dataclass(frozen=True, slots=True)
class Operation:
    """One method of one HTTP-triggered function, as registered."""

    function: str
    route: str
    method: str
    op: Op
    anonymous: bool


_OPERATIONS: WeakKeyDictionary[func.Blueprint, dict[tuple[str, str], Operation]] = (
    WeakKeyDictionary()
)


def operations(blueprints: Iterable[func.Blueprint]) -> tuple[Operation, ...]:
    """The operations declared on these blueprints, in declaration order."""
    return tuple(op for bp in blueprints for op in _OPERATIONS.get(bp, {}).values())


def request_id_of(req: func.HttpRequest) -> str | None:
    """The request id the platform's front end put on the request, if any."""
    for header in REQUEST_ID_HEADERS:
        found = str(req.headers.get(header) or "")
        if found and _SAFE_ID.fullmatch(found):
            return found
    return None


def _serve(
    req: func.HttpRequest,
    handler: Callable[..., object],
    takes_context: bool,
    errors: ErrorTable,
) -> func.HttpResponse:
    try:
        require_app_role(req)
        if takes_context:
            from shared.bootstrap import context
            from shared.services.event_publisher import publish_pending

            ctx = context()
            try:
                result = handler(req, ctx)
            finally:
                if req.method != "GET":  # a write may have queued events; never raises
                    publish_pending(ctx)
        else:
            result = handler(req)
    except Exception as error:
        return problem_response(error, errors)
    return result if isinstance(result, func.HttpResponse) else json_response(result)


def admin_route(
    bp: func.Blueprint,
    route: str,
    *,
    name: str,
    get: Op | None = None,
    post: Op | None = None,
    put: Op | None = None,
    delete: Op | None = None,
    anonymous: bool = False,
    errors: ErrorTable | None = None,
) -> Callable[[Handler], Handler]:
    """Register the handler as HTTP function `name` on `route` and record its operations."""
    methods = {
        method: op
        for method, op in (("GET", get), ("POST", post), ("PUT", put), ("DELETE", delete))
        if op is not None
    }
    if not methods:
        raise ValueError(f"route {route!r} declares no method")
    declared = _OPERATIONS.setdefault(bp, {})
    if any(function == name for function, _ in declared):
        raise ValueError(f"function {name!r} is declared twice")
    route_errors: ErrorTable = dict(errors or {})

    def register(handler: Handler) -> Handler:
        takes_context = len(inspect.signature(handler).parameters) > 1

        def trigger(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
            with function_invocation(context, request_id=request_id_of(req)):
                return _serve(req, handler, takes_context, route_errors)

        # The worker binds the trigger by its parameter `req` and hands the invocation context as
        # `context`; the name and docs are the handler's.
        trigger.__name__ = trigger.__qualname__ = name
        trigger.__module__, trigger.__doc__ = handler.__module__, handler.__doc__
        level = func.AuthLevel.ANONYMOUS if anonymous else func.AuthLevel.FUNCTION
        bp.function_name(name)(
            bp.route(route=route, methods=list(methods), auth_level=level)(trigger)
        )
        for method, op in methods.items():
            declared[(name, method)] = Operation(name, route, method, op, anonymous)
        return handler

    return register
