"""Admin API for credential sets.

POST /api/credential-sets/{registry}/{name}/sync[?dry_run=true]  newest valid secret versions
GET  /api/credential-sets/{registry}/{name}/access               can its identity read its secrets
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import azure.functions as func

from functions._http import flag
from functions._responses import ACCESS, REACTION
from functions._routes import Op, admin_route
from functions._schemas import DRY_RUN, REGISTRY, path_param

if TYPE_CHECKING:
    from shared.services import Context

bp = func.Blueprint()
_NAME = path_param("name")


@admin_route(
    bp,
    "credential-sets/{registry}/{name}/sync",
    name="sync_credential_set",
    post=Op(
        "Move a credential set to the newest valid secret versions",
        schema=REACTION,
        params=(REGISTRY, _NAME, DRY_RUN),
        responses={"200": "the reaction", "404": "not found"},
    ),
)
def sync_credential_set(req: func.HttpRequest, ctx: Context) -> dict[str, Any]:
    from shared.services import sync_credential_set as sync

    dry_run = flag(req, "dry_run")
    reaction = sync(ctx, req.route_params["registry"], req.route_params["name"], dry_run=dry_run)
    return reaction.to_dict()


@admin_route(
    bp,
    "credential-sets/{registry}/{name}/access",
    name="credential_set_access",
    get=Op(
        "Can the credential set's identity read its secrets",
        schema=ACCESS,
        params=(REGISTRY, _NAME),
        responses={"200": "the diagnosis", "404": "not found"},
    ),
)
def credential_set_access(req: func.HttpRequest, ctx: Context) -> dict[str, Any]:
    from shared.services.pull_failures import access_report

    reaction = access_report(ctx, req.route_params["registry"], req.route_params["name"])
    return reaction.to_dict()
