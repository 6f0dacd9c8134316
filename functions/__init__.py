"""Trigger functions: each parses its input, calls one service, and answers or records.

How triggers are grouped into blueprints, one rule:

    One blueprint per resource family of the admin API, in a module named after the family and
    holding every route under the family's first path segments. A trigger that is not HTTP goes
    in the blueprint of its signal source: the family whose route takes the same signal by hand
    (an audit, a repository request, a pull failure), else a blueprint of its own named after
    the source (an Azure system topic).

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
    "health": ("health",),  # the app itself, anonymous
    "openapi": ("openapi.json",),  # this API's description
    "dashboard": ("dashboard",),  # the cache-health page
    "audit": ("audit", "journal", "metrics", "registries"),  # audit_timer (the audit schedule)
    "plans": ("plan", "apply"),
    "policies": ("policies",),
    "credential_sets": ("credential-sets",),
    "repositories": ("repositories",),  # on_repository_requested (RepositoryRequested topic)
    "pull_failures": ("alerts",),  # on_pull_failure (PullFailed topic)
    "keyvault_events": (),  # on_keyvault_event (Key Vault system topics)
    "registry_events": (),  # on_registry_event (ACR system topics)
}


def blueprints() -> list[func.Blueprint]:
    """Every blueprint of the app (importing its module records its routes)."""
    return [import_module(f"{__name__}.{module}").bp for module in BLUEPRINTS]
