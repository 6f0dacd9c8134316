"""Pull rows of the policy table: which identities cachekeeper may give pull rights, where.

A row names identities by Entra object id or by a service-principal-name prefix, a registry (a
name, or `*` for every managed registry) and optionally a repository (ABAC repository-permissions
registries only grant per repository). Only a row that names the identity lets `fix` mode grant,
and then only the least role that pulls: AcrPull at the registry, or, in ABAC mode, Container
Registry Repository Reader with a condition on that repository. Never push or delete rights.
A row by name prefix matches only a service principal the directory described
(`shared/domain/directory.py` says which names a prefix is matched against).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from shared.domain.directory import ServicePrincipal
from shared.errors import InvalidPolicyError

__all__ = ["PullPolicy", "pull_policy_for"]

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", re.ASCII)
_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I | re.ASCII)
_REGISTRY = re.compile(r"(\*|[a-zA-Z0-9]{5,50})", re.ASCII)
_REPOSITORY = re.compile(
    r"[a-z0-9]+(?:[._-]+[a-z0-9]+)*(?:/[a-z0-9]+(?:[._-]+[a-z0-9]+)*)*", re.ASCII
)
_KNOWN = {"id", "kind", "principalId", "servicePrincipalNamePrefix", "registry", "repository",
          "enabled", "description"}  # fmt: skip


@dataclass(frozen=True, slots=True)
class PullPolicy:
    """One pull row: `principal_id` or `spn_prefix` (exactly one) may pull `registry[/repository]`."""

    id: str
    registry: str = "*"
    principal_id: str | None = None
    spn_prefix: str | None = None
    repository: str | None = None
    enabled: bool = True
    description: str = ""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PullPolicy:
        """Build and validate a row from its JSON form (`"kind": "pull"`)."""
        if not isinstance(data, Mapping):
            raise InvalidPolicyError("a pull policy must be an object")
        unknown = sorted(str(k) for k in data if k not in _KNOWN)
        if unknown:
            raise InvalidPolicyError(f"unknown pull policy field(s): {', '.join(unknown)}")
        if data.get("kind", "pull") != "pull":
            raise InvalidPolicyError("a pull policy's kind must be 'pull'")
        texts = {}
        for key in (
            "id",
            "principalId",
            "servicePrincipalNamePrefix",
            "registry",
            "repository",
            "description",
        ):
            value = data.get(key)
            if value is not None and not isinstance(value, str):
                raise InvalidPolicyError(f"pull policy field {key} must be a string")
            texts[key] = value.strip() if isinstance(value, str) else None
        enabled = data.get("enabled", True)
        if not isinstance(enabled, bool):
            raise InvalidPolicyError("pull policy field enabled must be true or false")
        row = cls(
            id=texts["id"] or "",
            registry=texts["registry"] or "*",
            principal_id=(texts["principalId"] or "").lower() or None,
            spn_prefix=texts["servicePrincipalNamePrefix"] or None,
            repository=(texts["repository"] or None),
            enabled=enabled,
            description=texts["description"] or "",
        )
        row.validate()
        return row

    def validate(self) -> None:
        where = f"pull policy {self.id!r}"
        if not _ID.fullmatch(self.id):
            raise InvalidPolicyError(
                "a pull policy needs an id of letters, digits, '.', '_' or '-'"
            )
        if (self.principal_id is None) == (self.spn_prefix is None):
            raise InvalidPolicyError(
                f"{where}: give exactly one of principalId, servicePrincipalNamePrefix"
            )
        if self.principal_id is not None and not _GUID.fullmatch(self.principal_id):
            raise InvalidPolicyError(f"{where}: principalId must be an Entra object id (a GUID)")
        if self.spn_prefix is not None and not 3 <= len(self.spn_prefix) <= 200:
            raise InvalidPolicyError(
                f"{where}: servicePrincipalNamePrefix must be 3 to 200 characters"
            )
        if not _REGISTRY.fullmatch(self.registry):
            raise InvalidPolicyError(f"{where}: registry must be a registry name or '*'")
        if self.repository is not None and not _REPOSITORY.fullmatch(self.repository):
            raise InvalidPolicyError(f"{where}: repository must be a lower-case repository path")
        if len(self.description) > 500:
            raise InvalidPolicyError(f"{where}: description is longer than 500 characters")

    def names(self, principal_id: str, principal: ServicePrincipal | None) -> bool:
        """Whether the row names `principal_id` (`principal`: what the directory says about it,
        None when unknown: then only a row by object id can)."""
        if self.principal_id is not None:
            return self.principal_id == principal_id.lower()
        assert self.spn_prefix is not None
        return (
            principal is not None
            and principal.id == principal_id.lower()
            and principal.name_matching(self.spn_prefix) is not None
        )

    def covers(self, registry_name: str, repository: str) -> bool:
        if self.registry != "*" and self.registry.lower() != registry_name.lower():
            return False
        return self.repository is None or self.repository == repository.lower()

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "kind": "pull", "registry": self.registry}
        if self.principal_id is not None:
            data["principalId"] = self.principal_id
        if self.spn_prefix is not None:
            data["servicePrincipalNamePrefix"] = self.spn_prefix
        if self.repository is not None:
            data["repository"] = self.repository
        return data | {"enabled": self.enabled, "description": self.description}


def pull_policy_for(
    rows: Iterable[PullPolicy],
    *,
    principal_id: str,
    principal: ServicePrincipal | None,
    registry_name: str,
    repository: str,
) -> PullPolicy | None:
    """The enabled row that lets `principal_id` be given pull rights on `repository` (a row for
    the repository beats one for the whole registry, then the row id decides)."""
    matching = [
        r for r in rows
        if r.enabled and r.names(principal_id, principal) and r.covers(registry_name, repository)
    ]  # fmt: skip
    matching.sort(key=lambda r: (r.repository is None, r.registry == "*", r.id))
    return matching[0] if matching else None
