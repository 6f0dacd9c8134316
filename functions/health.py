"""GET /api/health: is the app up (anonymous, liveness only: status and version).
GET /api/status: in which mode, managing what, and what its configuration warns about (keyed)."""

from __future__ import annotations

from typing import Any

import azure.functions as func

from functions._responses import APP_STATUS, HEALTH
from functions._routes import Op, admin_route

bp = func.Blueprint()


@admin_route(
    bp,
    "health",
    name="health",
    anonymous=True,
    get=Op("Is the app up: status and version only (anonymous)", schema=HEALTH),
)
def health(req: func.HttpRequest) -> dict[str, Any]:
    from shared import __version__

    return {"status": "ok", "version": __version__}


@admin_route(
    bp,
    "status",
    name="app_status",
    get=Op(
        "In which mode, managing what, how callers are identified, configuration warnings",
        schema=APP_STATUS,
    ),
)
def app_status(req: func.HttpRequest) -> dict[str, Any]:
    from shared import __version__
    from shared.bootstrap import settings
    from shared.settings import configuration_warnings

    current = settings()
    return {
        "status": "ok",
        "version": __version__,
        "mode": current.mode,
        "managedRegistries": [str(rid) for rid in current.managed_registries],
        "remediationMode": current.remediation_mode,
        "authentication": {
            "appServiceAuthentication": current.app_service_authentication,
            "adminAppRole": current.admin_app_role,
        },
        "warnings": list(configuration_warnings(current)),
    }
