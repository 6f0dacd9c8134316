"""Admin API for credential sets: POST /api/credential-sets/{registry}/{name}/sync[?dry_run=true]."""

from __future__ import annotations

import azure.functions as func

from functions._http import json_response, problem, problem_from_error

bp = func.Blueprint()


@bp.function_name("sync_credential_set")
@bp.route(
    route="credential-sets/{registry}/{name}/sync",
    methods=["POST"],
    auth_level=func.AuthLevel.FUNCTION,
)
def sync_credential_set(req: func.HttpRequest) -> func.HttpResponse:
    from shared.bootstrap import context
    from shared.errors import CachekeeperError
    from shared.services import sync_credential_set as sync

    dry_run = req.params.get("dry_run", "false").lower()
    if dry_run not in ("true", "false", "1", "0"):
        return problem(400, "Bad Request", "dry_run must be true or false", code="InvalidInput")
    try:
        reaction = sync(
            context(),
            req.route_params["registry"],
            req.route_params["name"],
            dry_run=dry_run in ("true", "1"),
        )
    except CachekeeperError as error:
        if error.transient:
            raise
        return problem_from_error(error)
    return json_response(reaction.to_dict())
