"""Admin API for credential sets.

POST /api/credential-sets/{registry}/{name}/sync[?dry_run=true]  newest valid secret versions
GET  /api/credential-sets/{registry}/{name}/access               can its identity read its secrets
"""

from __future__ import annotations

import azure.functions as func

from functions._http import flag, guarded, json_response

bp = func.Blueprint()


@bp.function_name("sync_credential_set")
@bp.route(
    route="credential-sets/{registry}/{name}/sync",
    methods=["POST"],
    auth_level=func.AuthLevel.FUNCTION,
)
def sync_credential_set(req: func.HttpRequest) -> func.HttpResponse:
    def handle() -> func.HttpResponse:
        from shared.bootstrap import context
        from shared.services import sync_credential_set as sync

        dry_run = flag(req, "dry_run")
        reaction = sync(
            context(), req.route_params["registry"], req.route_params["name"], dry_run=dry_run
        )
        return json_response(reaction.to_dict())

    return guarded(handle, req)


@bp.function_name("credential_set_access")
@bp.route(
    route="credential-sets/{registry}/{name}/access",
    methods=["GET"],
    auth_level=func.AuthLevel.FUNCTION,
)
def credential_set_access(req: func.HttpRequest) -> func.HttpResponse:
    def handle() -> func.HttpResponse:
        from shared.bootstrap import context
        from shared.services.pull_failures import access_report

        reaction = access_report(context(), req.route_params["registry"], req.route_params["name"])
        return json_response(reaction.to_dict())

    return guarded(handle, req)
