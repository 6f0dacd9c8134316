"""The ARM front door: api-version checks, routing by provider, 404 for anything else."""

from __future__ import annotations

import re

from sandbox import arm_acr, arm_acr_auth, arm_auth, arm_graph, arm_insights, arm_kv
from sandbox.arm_acr import Handler
from sandbox.env import Env
from sandbox.errors import ServiceError, bad_request, not_found
from sandbox.wire import Request, Response

ACR_API_VERSIONS = frozenset(
    {
        "2025-11-01",
        "2025-06-01-preview",
        "2025-05-01-preview",
        "2025-04-01",
        "2025-03-01-preview",
        "2024-11-01-preview",
        "2023-07-01",
    }
)
AUTH_API_VERSIONS = frozenset({"2022-04-01", "2020-10-01-preview", "2022-05-01-preview"})
_DATE_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}(-preview)?$")

_TABLES: list[tuple[str, list[tuple[set[str], re.Pattern[str], Handler]]]] = [
    ("authorization", arm_auth.ROUTES),
    ("containerregistry", arm_acr_auth.ROUTES),  # before arm_acr: the registry PUT/PATCH
    ("containerregistry", arm_acr.ROUTES),
    ("insights", arm_insights.ROUTES),
    ("resourcegraph", arm_graph.ROUTES),
    ("keyvault", arm_kv.ROUTES),
]


def _check_api_version(provider: str, req: Request) -> None:
    version = req.query.get("api-version")
    if not version:
        raise bad_request(
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        )
    if provider == "containerregistry":
        supported: frozenset[str] | None = ACR_API_VERSIONS
    elif provider == "authorization":
        supported = AUTH_API_VERSIONS
    elif provider == "insights":
        supported = arm_insights.API_VERSIONS
    elif provider == "resourcegraph":
        supported = arm_graph.API_VERSIONS
    else:
        supported = None  # Key Vault management: any well-formed version is accepted
    if (supported is not None and version not in supported) or not _DATE_VERSION.match(version):
        listed = "', '".join(sorted(supported or ()))
        raise bad_request(
            "InvalidApiVersionParameter",
            f"The api-version '{version}' is invalid. The supported versions are '{listed}'.",
        )


def handle_arm(env: Env, req: Request) -> Response:
    """Route one management.azure.com request to its handler."""
    if not req.headers.get("authorization", "").lower().startswith("bearer "):
        raise ServiceError(
            401,
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.",
        )
    for provider, routes in _TABLES:
        for methods, pattern, handler in routes:
            match = pattern.match(req.path)
            if match is None:
                continue
            if req.method not in methods:
                raise ServiceError(
                    405, "MethodNotAllowed", f"The method '{req.method}' is not allowed here."
                )
            _check_api_version(provider, req)
            params = {k: v or "" for k, v in match.groupdict().items()}
            return handler(env, req, params)
    raise not_found("NotFound", f"The requested resource path '{req.path}' was not found.")
