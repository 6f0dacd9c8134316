"""GET /api/health: is the app up, in which mode, managing what. Anonymous, and says nothing secret."""

from __future__ import annotations

import azure.functions as func

from functions._http import json_response

bp = func.Blueprint()


@bp.function_name("health")
@bp.route(route="health", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def health(req: func.HttpRequest) -> func.HttpResponse:
    from shared import __version__
    from shared.bootstrap import settings

    current = settings()
    return json_response(
        {
            "status": "ok",
            "version": __version__,
            "mode": current.mode,
            "managedRegistries": [str(rid) for rid in current.managed_registries],
            "remediationMode": current.remediation_mode,
        }
    )
