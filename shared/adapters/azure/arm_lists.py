"""Collections listed page by page as raw JSON, through an SDK client's own pipeline (ARM's, and
Key Vault's secret versions, which page the same way).

`send_request` keeps the client's authentication, retries and logging, and skips its model
deserialization, which costs several times the request itself on a page of cache rules or role
assignments; a full audit lists thousands of pages (bench/scale.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from shared.domain.ids import ResourceId
from shared.errors import InvalidInputError

__all__ = ["ARM_ENDPOINT", "ListIds", "get_json", "list_json", "list_json_async"]

ARM_ENDPOINT = "https://management.azure.com"
_MAX_ID_LENGTH = 2048  # as ResourceId.parse
_CHILD_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,259}$")  # a subset of valid segments


class ListIds:
    """`ResourceId.parse` for the ids of one list: every item of a collection has the same parent
    (`{registry}/cacheRules/{name}`) and the rules of a registry point at a few credential sets,
    so parents and repeated ids are parsed once. A list of 1,000 rules parsed each id in full,
    about a third of the adapter's time on the audit's hottest path (bench/scale.py).

    The result is the id `ResourceId.parse` returns (same segments, so same `str()`, equality and
    hash): the shortcut is taken only when the parent is a valid resource (it has a provider) and
    the child's type and name are plain segments; anything else goes through `ResourceId.parse`,
    errors included."""

    def __init__(self) -> None:
        self._ids: dict[str, ResourceId] = {}
        self._heads: dict[str, tuple[ResourceId, str] | None] = {}

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
        if head not in self._heads:
            self._heads[head] = self._head(head)
        found = self._heads[head]
        if found is None or not _CHILD_SEGMENT.match(name):
            return None
        parent, kind = found
        return parent.extended(kind, name)

    @staticmethod
    def _head(head: str) -> tuple[ResourceId, str] | None:
        """`{parent}/{type}` of a list's items: the parsed parent and the type, when they can
        be extended by a plain name (the parent a valid resource, the type a plain segment)."""
        parent_text, _, kind = head.rpartition("/")
        if not _CHILD_SEGMENT.match(kind) or kind.lower() == "providers":
            return None
        try:
            parent = ResourceId.parse(parent_text)
        except InvalidInputError:
            return None
        if parent.namespace is None or str(parent) != parent_text:
            return None  # a scope (no type/name pairs to extend), or spelled differently
        return parent, kind


def _get(
    path: str, api_version: str, params: Mapping[str, str] | None, endpoint: str = ARM_ENDPOINT
) -> Any:
    from azure.core.rest import HttpRequest

    query = {"api-version": api_version, **(params or {})}
    return HttpRequest("GET", f"{endpoint}{path}", params=query)


def _decoded(body: bytes) -> Mapping[str, Any]:
    """A page's JSON (UTF-8, with or without a byte-order mark, as azure-core decodes it); a
    body that is not a JSON object raises azure-core's DecodeError, as its decoding policy does."""
    from azure.core.exceptions import DecodeError

    try:
        page = json.loads(body.decode("utf-8-sig"))
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError
        raise DecodeError(f"a list page is not JSON: {error}") from error
    if not isinstance(page, Mapping):
        raise DecodeError(f"a list page must be a JSON object, not {type(page).__name__}")
    return page


def _next_page(page: Mapping[str, Any], items: list[Mapping[str, Any]]) -> Any:
    """Keep the page's items; the request for the next page, or None after the last."""
    from azure.core.rest import HttpRequest

    items.extend(page.get("value") or [])
    next_link = page.get("nextLink")
    return HttpRequest("GET", next_link) if next_link else None


def _pipeline_client(client: Any) -> Any:
    # The generated client's ARM pipeline client: its send_request runs the very pipeline the
    # operations use, without the generated wrapper's deep copy of every request (which cost
    # about as much as the JSON of a page). Multi-API clients (azure-mgmt-authorization) have
    # no wrapper at all. Pages are sent with stream=True and decoded here once: otherwise the
    # pipeline's ContentDecodePolicy decodes every page and the caller decodes it again.
    return client._client


def list_json(
    client: Any,
    path: str,
    *,
    api_version: str,
    params: Mapping[str, str] | None = None,
    endpoint: str = ARM_ENDPOINT,
) -> list[Mapping[str, Any]]:
    """Every item of the collection at `path` (following `nextLink`), as REST JSON: an ARM
    collection, or one of a data plane that pages the same way (`endpoint`: a vault's URL)."""
    send = _pipeline_client(client).send_request
    items: list[Mapping[str, Any]] = []
    request = _get(path, api_version, params, endpoint)
    while request is not None:
        request = _next_page(_sent(send, request), items)
    return items


def get_json(client: Any, path: str, *, api_version: str) -> Mapping[str, Any]:
    """One ARM resource at `path` as REST JSON, through the client's pipeline (as `list_json`)."""
    return _sent(_pipeline_client(client).send_request, _get(path, api_version, None))


def _sent(send: Any, request: Any) -> Mapping[str, Any]:
    response = send(request, stream=True)  # read here: decoded once, not by the pipeline too
    body = response.read()
    response.raise_for_status()
    return _decoded(body)


async def list_json_async(
    client: Any,
    path: str,
    *,
    api_version: str,
    params: Mapping[str, str] | None = None,
) -> list[Mapping[str, Any]]:
    """`list_json` through an SDK's asyncio client (`azure.mgmt.*.aio`)."""
    send = _pipeline_client(client).send_request
    items: list[Mapping[str, Any]] = []
    request = _get(path, api_version, params)
    while request is not None:
        response = await send(request, stream=True)
        body = await response.read()
        response.raise_for_status()
        request = _next_page(_decoded(body), items)
    return items
