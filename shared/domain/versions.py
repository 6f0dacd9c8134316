"""Which version of a secret is the latest, and which is the newest valid one: pure.

Key Vault's `created` timestamps are whole seconds, so two versions created in the same second
look alike in a version list (whose order Key Vault does not document). Key Vault itself knows
which came last: a versionless read returns it. cachekeeper learns the order from the
`SecretNewVersionCreated` events it handled (`announced`: version id -> the event's time, finer
than a second). Among versions sharing the newest second, the one announced last wins, but only
when every one of them was announced, each at a different time; otherwise the order is unknown
and the choice is *ambiguous*: it is reported, never guessed.

Two rules, not to be confused (docs/fidelity.md, Key Vault):
- Key Vault's rule for *reading*: a versionless reference reads the latest version, and a
  disabled version answers 403; `nbf`/`exp` are not enforced on reads.
- cachekeeper's own stricter rule for *choosing* a version to move to (a product rule): enabled,
  `nbf <= now` and `exp > now`, so a credential set is never moved to a version that is expired
  or not yet active.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.domain.models import SecretVersion
from shared.domain.secrets import SecretRef

__all__ = [
    "Announcements",
    "Choice",
    "ObservedSecret",
    "created_second",
    "is_newer",
    "latest",
    "newest_usable",
]

Announcements = Mapping[str, datetime]
"""Version id -> when a SecretNewVersionCreated event announced it (for one secret)."""

_EPOCH = datetime.min
_NONE: Announcements = {}
_ZERO = timedelta(0)


def created_second(version: SecretVersion) -> datetime:
    """When the version was created, as Key Vault reports it (naive UTC, whole seconds)."""
    moment = version.created or version.updated
    if moment is None:
        return _EPOCH
    return moment.replace(tzinfo=None, microsecond=0) - (moment.utcoffset() or _ZERO)


@dataclass(frozen=True, slots=True)
class Choice:
    """The version chosen among candidates, or none; `tied` lists the versions created in the
    same second whose order could not be told apart (then `version` is None)."""

    version: SecretVersion | None
    tied: tuple[SecretVersion, ...] = ()

    @property
    def ambiguous(self) -> bool:
        return self.version is None and bool(self.tied)


def _announced_order(
    tied: Sequence[SecretVersion], announced: Announcements
) -> SecretVersion | None:
    times = [announced.get(v.version) for v in tied]
    if any(t is None for t in times):
        return None
    known = [t for t in times if t is not None]
    if len({t.replace(tzinfo=None) - (t.utcoffset() or _ZERO) for t in known}) != len(known):
        return None
    return max(zip(known, tied, strict=True), key=lambda pair: pair[0])[1]


def newest(candidates: Sequence[SecretVersion], announced: Announcements | None = None) -> Choice:
    """The most recently created of `candidates` (ties broken by the announcements)."""
    if not candidates:
        return Choice(None)
    top = max(created_second(v) for v in candidates)
    tied = sorted((v for v in candidates if created_second(v) == top), key=lambda v: v.version)
    if len(tied) == 1:
        return Choice(tied[0])
    chosen = _announced_order(tied, announced or _NONE)
    return Choice(chosen) if chosen is not None else Choice(None, tuple(tied))


def latest(versions: Sequence[SecretVersion], announced: Announcements | None = None) -> Choice:
    """The version a versionless reference reads: the latest created, enabled or not."""
    return newest(versions, announced)


def newest_usable(
    versions: Sequence[SecretVersion], now: datetime, announced: Announcements | None = None
) -> Choice:
    """The newest version cachekeeper would move a credential set to (the product rule)."""
    return newest([v for v in versions if v.is_valid_at(now)], announced)


def is_newer(
    first: SecretVersion, second: SecretVersion, announced: Announcements | None = None
) -> bool | None:
    """True when `first` was created after `second`, False when not (or it is the same version),
    None when they share a second and the announcements cannot order them."""
    if first.version == second.version:
        return False
    a, b = created_second(first), created_second(second)
    if a != b:
        return a > b
    chosen = _announced_order([first, second], announced or _NONE)
    return None if chosen is None else chosen.version == first.version


@dataclass(frozen=True, slots=True)
class ObservedSecret:
    """One observed secret: its versions, what its events announced, and the two choices."""

    ref: SecretRef
    versions: Sequence[SecretVersion]
    announced: Announcements
    best: Choice  # the newest valid version (the product's rule for choosing)
    latest: Choice  # what a versionless read returns (Key Vault's rule for reading)
