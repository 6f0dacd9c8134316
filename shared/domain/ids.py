"""Azure Resource Manager resource ids: parse, format, compare, walk the hierarchy.

ARM treats ids case-insensitively, so equality and hashing ignore case while `str()` keeps the
original spelling. Scopes (subscription, resource group, management group) are ids too, which
makes "is this role assignment above that secret?" a prefix test on segments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from shared.errors import InvalidResourceIdError

__all__ = ["ResourceId"]

_GUID = re.compile(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}", re.ASCII)
# a segment may hold any letters (resource group names take Unicode) but no Unicode space
_SEGMENT = re.compile(r"[^/\s?#%\\]{1,260}", re.UNICODE)
_NAMESPACE = re.compile(r"[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)+", re.ASCII)
_MAX_LENGTH = 2048


@dataclass(frozen=True, slots=True, eq=False)
class ResourceId:
    """An ARM id such as /subscriptions/{s}/resourceGroups/{g}/providers/{ns}/{type}/{name}."""

    segments: tuple[str, ...]
    _key: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_key", "/" + "/".join(self.segments).lower())

    # ---- construction -------------------------------------------------------------------
    @classmethod
    def parse(cls, text: str) -> ResourceId:
        """Parse an id, raising InvalidResourceIdError with the reason when it is malformed."""
        if not isinstance(text, str):
            raise InvalidResourceIdError("a resource id must be a string")
        value = text.strip()
        if not value.startswith("/") or value == "/":
            raise InvalidResourceIdError(
                f"{_show(text)} is not a resource id: it must start with '/'"
            )
        if len(value) > _MAX_LENGTH:
            raise InvalidResourceIdError("resource id is longer than 2048 characters")
        segments = tuple(value[1:].split("/"))
        for segment in segments:
            if not _SEGMENT.fullmatch(segment):
                raise InvalidResourceIdError(f"{_show(text)} has an empty or invalid segment")
        _validate(segments, text)
        return cls(segments)

    @classmethod
    def subscription(cls, subscription_id: str) -> ResourceId:
        """The id of a subscription scope."""
        return cls.parse(f"/subscriptions/{subscription_id}")

    def __str__(self) -> str:
        return "/" + "/".join(self.segments)

    @property
    def key(self) -> str:
        """The id as ARM compares it: `str(self).lower()`, computed once."""
        return self._key

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ResourceId):
            return self._key == other._key
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._key)

    # ---- parts --------------------------------------------------------------------------
    @property
    def subscription_id(self) -> str | None:
        """The subscription GUID, when the id lives in a subscription."""
        if self.segments[0].lower() == "subscriptions":
            return self.segments[1]
        return None

    @property
    def resource_group(self) -> str | None:
        """The resource group name, when the id lives in one."""
        if len(self.segments) >= 4 and self.segments[2].lower() == "resourcegroups":
            return self.segments[3]
        return None

    @property
    def _provider_index(self) -> int | None:
        lowered = [s.lower() for s in self.segments]
        indexes = [i for i, s in enumerate(lowered) if s == "providers" and i % 2 == 0]
        return indexes[-1] if indexes else None

    @property
    def namespace(self) -> str | None:
        """The resource provider namespace of the innermost resource (Microsoft.KeyVault)."""
        index = self._provider_index
        return None if index is None else self.segments[index + 1]

    @property
    def full_type(self) -> str:
        """The resource type such as Microsoft.ContainerRegistry/registries/cacheRules."""
        index = self._provider_index
        if index is None:
            if self.resource_group is not None:
                return "Microsoft.Resources/resourceGroups"
            return "Microsoft.Resources/subscriptions"
        rest = self.segments[index + 2 :]
        types = [rest[i] for i in range(0, len(rest), 2)]
        return "/".join([self.segments[index + 1], *types])

    def is_type(self, full_type: str) -> bool:
        """True when the resource type equals `full_type`, ignoring case."""
        return self.full_type.lower() == full_type.lower()

    @property
    def name(self) -> str:
        """The last segment: the resource's own name."""
        return self.segments[-1]

    @property
    def parent(self) -> ResourceId | None:
        """The enclosing resource or scope; None for a tenant-level root."""
        if len(self.segments) <= 2:
            return None
        cut = self.segments[:-2]
        if len(cut) >= 2 and cut[-2].lower() == "providers":
            cut = cut[:-2]
        if not cut:
            return None
        return ResourceId(cut)

    def child(self, child_type: str, name: str) -> ResourceId:
        """The id of a child resource, e.g. registry.child("cacheRules", "nginx")."""
        if self._provider_index is None:
            raise InvalidResourceIdError(
                f"{self} is a scope, not a resource; it has no child types"
            )
        return ResourceId.parse(f"{self}/{child_type}/{name}")

    def contains(self, other: ResourceId) -> bool:
        """True when `other` is this scope or lies below it (a role assigned here applies there)."""
        mine = self._key
        theirs = other._key
        return theirs == mine or theirs.startswith(mine + "/")

    def ancestors(self) -> list[ResourceId]:
        """This id and every enclosing scope, innermost first."""
        chain: list[ResourceId] = []
        current: ResourceId | None = self
        while current is not None:
            chain.append(current)
            current = current.parent
        return chain


def _show(text: str) -> str:
    return repr(text if len(text) <= 80 else text[:77] + "...")


def _validate(segments: tuple[str, ...], text: str) -> None:
    lowered = [s.lower() for s in segments]
    index = 0
    if lowered[0] == "subscriptions":
        if len(segments) < 2 or not _GUID.fullmatch(segments[1]):
            raise InvalidResourceIdError(f"{_show(text)}: the subscription id must be a GUID")
        index = 2
        if len(lowered) > 2 and lowered[2] == "resourcegroups":
            if len(segments) < 4:
                raise InvalidResourceIdError(f"{_show(text)}: resourceGroups needs a name")
            index = 4
    elif lowered[0] != "providers":
        raise InvalidResourceIdError(f"{_show(text)} must start with /subscriptions or /providers")
    while index < len(segments):
        if lowered[index] != "providers":
            raise InvalidResourceIdError(
                f"{_show(text)}: expected 'providers' at segment {index + 1}"
            )
        rest_start = index + 2
        if rest_start > len(segments) or not _NAMESPACE.fullmatch(segments[index + 1]):
            raise InvalidResourceIdError(
                f"{_show(text)}: 'providers' needs a namespace like Microsoft.X"
            )
        # type/name pairs until the next nested 'providers'
        index = rest_start
        pairs = 0
        while index < len(segments) and lowered[index] != "providers":
            if index + 1 >= len(segments):
                raise InvalidResourceIdError(
                    f"{_show(text)}: resource type {segments[index]!r} has no name"
                )
            index += 2
            pairs += 1
        if pairs == 0:
            raise InvalidResourceIdError(
                f"{_show(text)}: provider {segments[rest_start - 1]!r} has no resource"
            )
