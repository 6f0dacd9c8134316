"""New repositories: the admin endpoint (the `cachekeeper.RepositoryRequested` event arrives
through functions/events.py).

POST /api/repositories[?dry_run=true]  {"upstream": "docker.io/library/nginx", "registry": "contosocache"}
                                       or {"target": "dockerhub/library/nginx", "registry": ...}
"""

from __future__ import annotations

import logging
import uuid

import azure.functions as func

from functions._http import flag, guarded, json_response, read_json

bp = func.Blueprint()
log = logging.getLogger(__name__)
_STATUS = {"applied": 201, "planned": 200, "no-change": 200, "rejected": 422, "ignored": 403}


@bp.function_name("request_repository")
@bp.route(route="repositories", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
def request_repository(req: func.HttpRequest) -> func.HttpResponse:
    def handle() -> func.HttpResponse:
        from shared.bootstrap import context
        from shared.services.repositories import parse_repository_request, request

        ctx = context()
        wanted = parse_repository_request(ctx, read_json(req))
        reaction = request(
            ctx, wanted, dry_run=flag(req, "dry_run"), signal_id=f"api-{uuid.uuid4().hex[:16]}"
        )
        return json_response(
            reaction.to_dict(), status_code=_STATUS.get(reaction.status.value, 200)
        )

    return guarded(handle, req)
