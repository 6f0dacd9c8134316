"""New repositories: the admin endpoint (the `cachekeeper.RepositoryRequested` event arrives
through functions/events.py).

POST /api/repositories[?dry_run=true]  {"upstream": "docker.io/library/nginx", "registry": "contosocache"}
                                       or {"target": "dockerhub/library/nginx", "registry": ...}
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING

import azure.functions as func

from functions._http import flag, json_response, read_json
from functions._problems import problem
from functions._responses import REPOSITORY
from functions._routes import Op, admin_route
from functions._schemas import DRY_RUN, REPOSITORY_REQUEST
from shared.errors import ThrottledError

if TYPE_CHECKING:
    from shared.services import Context

bp = func.Blueprint()
log = logging.getLogger(__name__)
_STATUS = {"applied": 201, "planned": 200, "no-change": 200}
# a refusal is problem+json carrying the reaction (its `status` member is the HTTP status, so the
# reaction's own status is `result`)
_REFUSALS = {"rejected": (422, "PolicyViolation"), "ignored": (403, "OutOfScope")}


@admin_route(
    bp,
    "repositories",
    name="request_repository",
    post=Op(
        "Request a cache rule for an upstream repository (policy table decides)",
        schema=REPOSITORY,
        params=(DRY_RUN,),
        request=REPOSITORY_REQUEST,
        request_required=True,
        responses={
            "200": "planned or already served",
            "201": "rule created",
            "403": "the registry is not managed",
            "422": "refused by policy or ACR",
            "429": "deferred: the registry's hourly rule budget is spent (Retry-After)",
        },
    ),
)
def request_repository(req: func.HttpRequest, ctx: Context) -> func.HttpResponse:
    from shared.services.repositories import parse_repository_request, request

    wanted = parse_repository_request(ctx, read_json(req))
    reaction = request(
        ctx, wanted, dry_run=flag(req, "dry_run"), signal_id=f"api-{uuid.uuid4().hex[:16]}"
    )
    if reaction.status.value == "deferred":  # over the registry's hourly rule budget: recorded
        raise ThrottledError(reaction.reason, retry_after=reaction.details.get("retryAfterSeconds"))
    answer = reaction.to_dict()
    result = answer.pop("status")
    if result in _REFUSALS:
        status, code = _REFUSALS[result]
        return problem(status, title=code, detail=reaction.reason, code=code,
                       members={**answer, "result": result})  # fmt: skip
    return json_response(reaction.to_dict(), status_code=_STATUS.get(result, 200))
