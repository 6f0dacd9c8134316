"""GET /api/health: is the app up, in which mode, managing what. Anonymous, and says nothing secret."""

from __future__ import annotations

from typing import Any

import azure.functions as func

from functions._routes import Op, admin_route

bp = func.Blueprint()


@admin_route(
    bp,
    "health",
    name="health",
    anonymous=True,
    get=Op("Is the app up, in which mode, managing what"),
)
def health(req: func.HttpRequest) -> dict[str, Any]:
    from shared import __version__
    from shared.bootstrap import settings

    current = settings()
    return {
        "status": "ok",
        "version": __version__,
        "mode": current.mode,
        "managedRegistries": [str(rid) for rid in current.managed_registries],
        "remediationMode": current.remediation_mode,
    }
