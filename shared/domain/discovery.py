"""Registries found, not only listed: a scope (subscriptions, management groups, resource groups)
and a tag filter, turned into Azure Resource Graph queries of the `resources` table, and the
registry ids read back from their rows. Pure: the adapter sends the requests and pages.

    REGISTRY_SCOPE       /subscriptions/<id>, /subscriptions/<id>/resourceGroups/<rg>,
                         /providers/Microsoft.Management/managementGroups/<name>, comma-separated
    REGISTRY_TAG_FILTER  key=value,key=value (every one must match; tag names are
                         case-insensitive in Resource Graph, values compared case-insensitively)

One request (Resources, `POST /providers/Microsoft.ResourceGraph/resources`) covers the
subscription and resource-group scopes (their subscriptions in `subscriptions`, the resource
groups as a filter), another the management groups (`managementGroups`): a request names one or
the other. Results are ordered by id, which paging with `$skipToken` needs to be stable.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shared.domain.ids import ResourceId
from shared.errors import InvalidInputError

__all__ = [
    "API_VERSION",
    "PAGE_SIZE",
    "RegistryScope",
    "graph_requests",
    "parse_scope",
    "registries_from_rows",
]

API_VERSION = "2022-10-01"
PAGE_SIZE = 1000  # the service's largest $top
REGISTRY_TYPE = "microsoft.containerregistry/registries"
_GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}", re.ASCII)
_SUBSCRIPTION = re.compile(r"/subscriptions/([^/]+)", re.IGNORECASE | re.ASCII)
_GROUP = re.compile(r"/subscriptions/([^/]+)/resourceGroups/([^/]+)", re.IGNORECASE | re.ASCII)
_MANAGEMENT_GROUP = re.compile(
    r"/providers/Microsoft\.Management/managementGroups/([^/]+)", re.IGNORECASE | re.ASCII
)
# What may appear inside a KQL string literal here: no quote, no backslash, no control character.
_LITERAL = re.compile(r"[A-Za-z0-9 ._:/@+=()-]{1,256}", re.ASCII)
_GROUP_NAME = re.compile(r"[-\w._()]{1,90}", re.UNICODE)  # ARM allows Unicode letters


@dataclass(frozen=True, slots=True)
class RegistryScope:
    """Where registries are looked for, and the tags they must carry."""

    subscriptions: tuple[str, ...] = ()
    resource_groups: tuple[tuple[str, str], ...] = ()  # (subscription, resource group)
    management_groups: tuple[str, ...] = ()
    tags: tuple[tuple[str, str], ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.subscriptions or self.resource_groups or self.management_groups)


def _literal(what: str, text: str) -> str:
    if not _LITERAL.fullmatch(text):
        raise InvalidInputError(
            f"{what} {text[:60]!r}: use letters, digits, spaces and . _ : / @ + = ( ) - only"
        )
    return text


def _subscription(text: str) -> str:
    if not _GUID.fullmatch(text):
        raise InvalidInputError(f"subscription {text[:60]!r} is not a subscription id (a GUID)")
    return text.lower()


def parse_scope(scopes: str, tag_filter: str = "") -> RegistryScope:
    """The scope and tag filter of the settings; InvalidInputError naming what is wrong."""
    subscriptions: list[str] = []
    groups: list[tuple[str, str]] = []
    management: list[str] = []
    for raw in (part.strip().rstrip("/") for part in scopes.split(",")):
        if not raw:
            continue
        if found := _SUBSCRIPTION.fullmatch(raw):
            subscriptions.append(_subscription(found.group(1)))
        elif found := _GROUP.fullmatch(raw):
            if not _GROUP_NAME.fullmatch(found.group(2)):
                raise InvalidInputError(
                    f"resource group {found.group(2)[:90]!r} is not a valid name"
                )
            groups.append((_subscription(found.group(1)), found.group(2)))
        elif found := _MANAGEMENT_GROUP.fullmatch(raw):
            management.append(_literal("management group", found.group(1)))
        else:
            raise InvalidInputError(
                f"scope {raw[:80]!r} is not /subscriptions/<id>, "
                "/subscriptions/<id>/resourceGroups/<name> or "
                "/providers/Microsoft.Management/managementGroups/<name>"
            )
    tags: list[tuple[str, str]] = []
    for raw in (part.strip() for part in tag_filter.split(",")):
        if not raw:
            continue
        key, sep, value = raw.partition("=")
        if not sep or not key.strip():
            raise InvalidInputError(f"tag filter {raw[:60]!r} is not key=value")
        tags.append((_literal("tag name", key.strip()), _literal("tag value", value.strip())))
    return RegistryScope(
        tuple(dict.fromkeys(subscriptions)), tuple(dict.fromkeys(groups)),
        tuple(dict.fromkeys(management)), tuple(tags),
    )  # fmt: skip


def _query(scope: RegistryScope, *, groups: Sequence[tuple[str, str]] = ()) -> str:
    clauses = ["resources", f"where type =~ '{REGISTRY_TYPE}'"]
    terms = [f"subscriptionId == '{s}'" for s in scope.subscriptions] if groups else []
    terms += [f"(subscriptionId == '{s}' and resourceGroup =~ '{g}')" for s, g in groups]
    if terms:
        clauses.append("where " + " or ".join(terms))
    clauses += [f"where tags['{k}'] =~ '{v}'" for k, v in scope.tags]
    clauses += ["project id", "order by id asc"]
    return " | ".join(clauses)


def graph_requests(scope: RegistryScope) -> list[dict[str, Any]]:
    """The Resource Graph query requests (QueryRequest bodies, first page) for the scope."""
    options = {"resultFormat": "objectArray", "$top": PAGE_SIZE}
    requests: list[dict[str, Any]] = []
    subscriptions = list(
        dict.fromkeys([*scope.subscriptions, *(s for s, _ in scope.resource_groups)])
    )
    if subscriptions:
        query = _query(scope, groups=scope.resource_groups)
        requests.append({"subscriptions": subscriptions, "query": query, "options": options})
    if scope.management_groups:
        requests.append(
            {"managementGroups": list(scope.management_groups), "query": _query(scope),
             "options": options}
        )  # fmt: skip
    return requests


def registries_from_rows(rows: Iterable[Mapping[str, Any]]) -> list[ResourceId]:
    """The registry ids of the result rows, each once, in the order first seen."""
    found: dict[str, ResourceId] = {}
    for row in rows:
        text = row.get("id")
        if not isinstance(text, str):
            continue
        registry = ResourceId.parse(text)
        found.setdefault(str(registry).lower(), registry)
    return list(found.values())
