"""Self-contained HTML pages (inline CSS and JS, no CDN, no build step), served with a
Content-Security-Policy that allows exactly their own inline script and style (by hash) and
requests to this app, so even a rendering mistake could not run injected script."""

from __future__ import annotations

import base64
import hashlib
import re
from functools import cache
from pathlib import Path

import azure.functions as func

__all__ = ["html_response", "page"]

_HERE = Path(__file__).parent


def _hash(source: str) -> str:
    digest = hashlib.sha256(source.encode()).digest()
    return "'sha256-" + base64.b64encode(digest).decode() + "'"


@cache
def page(name: str) -> tuple[bytes, str]:
    """The page `functions/<name>` and its Content-Security-Policy."""
    html = (_HERE / name).read_text(encoding="utf-8")
    scripts = " ".join(_hash(s) for s in re.findall(r"<script>(.*?)</script>", html, re.S | re.A))
    styles = " ".join(_hash(s) for s in re.findall(r"<style>(.*?)</style>", html, re.S | re.A))
    policy = (
        f"default-src 'none'; script-src {scripts}; style-src {styles}; connect-src 'self'; "
        "img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
    return html.encode("utf-8"), policy


def html_response(name: str) -> func.HttpResponse:
    """The page with its policy and headers that keep it from being sniffed, cached or framed."""
    body, policy = page(name)
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
