"""GET /api/dashboard: one self-contained HTML page (inline CSS and JS, no CDN, no build step).

The page renders from the JSON endpoints (health, registry status, journal, metrics, audit
report) with createElement/textContent only, and is served with a Content-Security-Policy that
allows exactly its own inline script and style (by hash) and requests to this app, so even a
rendering mistake could not run injected script.
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import cache
from pathlib import Path

import azure.functions as func

from functions._routes import Op, admin_route

bp = func.Blueprint()
_PAGE = Path(__file__).with_name("dashboard.html")


def _hash(source: str) -> str:
    digest = hashlib.sha256(source.encode()).digest()
    return "'sha256-" + base64.b64encode(digest).decode() + "'"


@cache
def page() -> tuple[bytes, str]:
    """The page and its Content-Security-Policy."""
    html = _PAGE.read_text(encoding="utf-8")
    scripts = " ".join(_hash(s) for s in re.findall(r"<script>(.*?)</script>", html, re.S | re.A))
    styles = " ".join(_hash(s) for s in re.findall(r"<style>(.*?)</style>", html, re.S | re.A))
    policy = (
        f"default-src 'none'; script-src {scripts}; style-src {styles}; connect-src 'self'; "
        "img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
    return html.encode("utf-8"), policy


@admin_route(
    bp,
    "dashboard",
    name="dashboard",
    get=Op("The cache-health dashboard (HTML)", responses={"200": "the page"}, media="text/html"),
)
def dashboard(req: func.HttpRequest) -> func.HttpResponse:
    body, policy = page()
    return func.HttpResponse(
        body,
        status_code=200,
        mimetype="text/html",
        charset="utf-8",
        headers={
            "Content-Security-Policy": policy,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store",
        },
    )
