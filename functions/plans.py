"""Plans: what cachekeeper would change in a scope, and applying exactly that.

POST /api/plan    {} | {"registry"} | + {"credentialSet"} | + {"repository"}: the plan with its id
POST /api/apply   the same scope + {"planId"}; 409 carrying the new plan when state moved since
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import azure.functions as func

from functions._http import read_object
from functions._responses import APPLIED, PLAN_VIEW
from functions._routes import Op, admin_route
from functions._schemas import SCOPE_PROPERTIES
from shared.errors import InvalidInputError

if TYPE_CHECKING:
    from shared.services import Context

bp = func.Blueprint()
_SCOPE = {"type": "object", "properties": SCOPE_PROPERTIES, "additionalProperties": False}
_SCOPE_AND_PLAN_ID = {
    "type": "object",
    "required": ["planId"],
    "additionalProperties": False,
    "properties": {**SCOPE_PROPERTIES, "planId": {"type": "string"}},
}


@admin_route(
    bp,
    "plan",
    name="plan",
    post=Op(
        "What cachekeeper would change in a scope (dry run)",
        schema=PLAN_VIEW,
        request=_SCOPE,
        responses={"200": "the plan with its id", "404": "registry or credential set not found"},
    ),
)
def plan(req: func.HttpRequest, ctx: Context) -> dict[str, Any]:
    from shared.services.plans import parse_scope, plan_scope

    return plan_scope(ctx, parse_scope(ctx, read_object(req))).to_dict()


@admin_route(
    bp,
    "apply",
    name="apply",
    post=Op(
        "Apply a plan by id if state has not changed since",
        schema=APPLIED,
        request=_SCOPE_AND_PLAN_ID,
        request_required=True,
        responses={"200": "what was applied", "409": "stale plan; the body carries the new plan"},
    ),
)
def apply(req: func.HttpRequest, ctx: Context) -> dict[str, Any]:
    """A stale plan raises StalePlanError: 409, the problem carrying the new plan."""
    from shared.services.plans import apply_scope, parse_scope

    body = read_object(req)
    plan_id = body.get("planId")
    if not isinstance(plan_id, str) or not plan_id.strip():
        raise InvalidInputError('"planId" is required: the id POST /api/plan returned')
    scope = parse_scope(ctx, body, extra=frozenset({"planId"}))
    return apply_scope(ctx, scope, plan_id.strip()).to_dict()
