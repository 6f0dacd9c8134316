"""GET /api/dashboard: one self-contained HTML page (`functions/_pages.py`: inline CSS and JS,
no CDN, no build step, a strict Content-Security-Policy by hash).

The page renders from the JSON endpoints (health, registry status, journal, history, metrics,
audit report) with createElement/textContent only; its charts are plain SVG drawn by its own
script.
"""

from __future__ import annotations

import azure.functions as func

from functions._pages import html_response
from functions._routes import Op, admin_route

bp = func.Blueprint()


@admin_route(
    bp,
    "dashboard",
    name="dashboard",
    get=Op("The cache-health dashboard (HTML)", responses={"200": "the page"}, media="text/html"),
)
def dashboard(req: func.HttpRequest) -> func.HttpResponse:
    return html_response("dashboard.html")
