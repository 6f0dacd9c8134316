"""Trigger functions: each parses its input, calls one service, and answers or records.

How triggers are grouped into blueprints, one rule:

    One blueprint per resource family of the admin API, in a module named after the family and
    holding every route under the family's first path segments. Event Grid triggers are not
    written by hand: `events` makes one per signal source of `shared.signals.SOURCES`. A timer
    goes in the family of what it runs (the audit schedule in `audit`).

`BLUEPRINTS` is that table, in the order the app registers them; a unit test checks every
indexed function against it. HTTP routes are declared once, with `@admin_route`
(`functions/_routes.py`), which also describes them for `GET /api/openapi.json`.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import azure.functions as func

__all__ = ["BLUEPRINTS", "blueprints"]

BLUEPRINTS: dict[str, tuple[str, ...]] = {
    # module: first path segments of its routes            other triggers (signal source)
    "health": ("health", "status"),  # the app itself: liveness anonymous, status keyed
    "openapi": ("openapi.json", "docs"),  # this API's description, and a page of it
    "dashboard": ("dashboard",),  # the cache-health page
    "audit": ("audit", "journal", "history", "metrics", "registries"),  # audit_timer (its schedule)
    "plans": ("plan", "apply"),
    "policies": ("policies", "export", "pull-policies"),  # not under policies/: never an id
    "credential_sets": ("credential-sets",),
    "repositories": ("repositories",),
    "pull_failures": ("alerts",),
    "events": (),  # one Event Grid trigger per signal source (shared.signals.SOURCES)
}


def blueprints() -> list[func.Blueprint]:
    """Every blueprint of the app (importing its module records its routes)."""
    return [import_module(f"{__name__}.{module}").bp for module in BLUEPRINTS]
