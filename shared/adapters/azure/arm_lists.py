"""ARM collections listed page by page as raw JSON, through an SDK client's own pipeline.

`send_request` keeps the client's authentication, retries and logging, and skips its model
deserialization, which costs several times the request itself on a page of cache rules or role
assignments; a full audit lists thousands of pages (DESIGN §8; bench/scale.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from shared.domain.ids import ResourceId
from shared.errors import InvalidInputError

__all__ = ["ARM_ENDPOINT", "ListIds", "list_json"]

ARM_ENDPOINT = "https://management.azure.com"
_MAX_ID_LENGTH = 2048  # as ResourceId.parse
_CHILD_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,259}$")  # a subset of valid segments


class ListIds:
    """`ResourceId.parse` for the ids of one list: every item of a collection has the same parent
    (`{registry}/cacheRules/{name}`) and the rules of a registry point at a few credential sets,
    so parents and repeated ids are parsed once. A list of 1,000 rules parsed each id in full,
    about a third of the adapter's time on the audit's hottest path (DESIGN §8; bench/scale.py).

    The result is the id `ResourceId.parse` returns (same segments, so same `str()`, equality and
    hash): the shortcut is taken only when the parent is a valid resource (it has a provider) and
    the child's type and name are plain segments; anything else goes through `ResourceId.parse`,
    errors included."""

    def __init__(self) -> None:
        self._ids: dict[str, ResourceId] = {}
        self._parents: dict[str, ResourceId | None] = {}

    def parse(self, text: str) -> ResourceId:
        """The id `ResourceId.parse(text)` returns (or raises)."""
        if not isinstance(text, str):  # JSON may hold anything: fail as ResourceId.parse does
            return ResourceId.parse(text)  # type: ignore[unreachable]
        known = self._ids.get(text)
        if known is None:
            known = self._ids[text] = self._child(text) or ResourceId.parse(text)
        return known

    def _child(self, text: str) -> ResourceId | None:
        if len(text) > _MAX_ID_LENGTH:
            return None
        head, _, name = text.rpartition("/")
        parent_text, _, kind = head.rpartition("/")
        if (
            not _CHILD_SEGMENT.match(name)
            or not _CHILD_SEGMENT.match(kind)
            or kind.lower() == "providers"
        ):
            return None
        if parent_text not in self._parents:
            try:
                parent: ResourceId | None = ResourceId.parse(parent_text)
            except InvalidInputError:
                parent = None
            if parent is not None and (parent.namespace is None or str(parent) != parent_text):
                parent = None  # a scope (no type/name pairs to extend), or spelled differently
            self._parents[parent_text] = parent
        parent = self._parents[parent_text]
        return None if parent is None else ResourceId((*parent.segments, kind, name))


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
