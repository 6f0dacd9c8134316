"""ARM collections listed page by page as raw JSON, through an SDK client's own pipeline.

`send_request` keeps the client's authentication, retries and logging, and skips its model
deserialization, which costs several times the request itself on a page of cache rules or role
assignments; a full audit lists thousands of pages (DESIGN §8; bench/scale.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["ARM_ENDPOINT", "list_json"]

ARM_ENDPOINT = "https://management.azure.com"


def list_json(
    client: Any,
    path: str,
    *,
    api_version: str,
    params: Mapping[str, str] | None = None,
) -> list[Mapping[str, Any]]:
    """Every item of the ARM collection at `path` (following `nextLink`), as REST JSON."""
    from azure.core.rest import HttpRequest

    first = HttpRequest(
        "GET", f"{ARM_ENDPOINT}{path}", params={"api-version": api_version, **(params or {})}
    )
    # single-API clients expose send_request; multi-API ones (azure-mgmt-authorization) keep it
    # on their ARM pipeline client, the same pipeline their operations use
    send = getattr(client, "send_request", None) or client._client.send_request
    items: list[Mapping[str, Any]] = []
    request: Any = first
    while request is not None:
        response = send(request)
        response.raise_for_status()
        page = response.json()
        items.extend(page.get("value") or [])
        next_link = page.get("nextLink")
        request = HttpRequest("GET", next_link) if next_link else None
    return items
