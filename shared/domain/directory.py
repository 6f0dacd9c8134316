"""What the directory (Microsoft Entra ID, through Microsoft Graph) says about a principal. Pure.

Pull rows may name identities by a *service-principal name prefix*. The prefix matches a service
principal when its `displayName` or any entry of its `servicePrincipalNames` starts with it,
compared case-insensitively: a managed identity's `displayName` is its resource name (an AKS
kubelet identity is `<cluster>-agentpool`) and its `servicePrincipalNames` are its client id and
an `https://identity.azure.net/...` URI; an application's are its `appId` and identifier URIs.
Only service principals of type `Application` or `ManagedIdentity` can match: a `Legacy` or
`SocialIdp` principal never does, and an object id the directory has no service principal for (a
user, a group) is not one (Graph answers 404). docs/fidelity.md, "Directory".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["GRANTABLE_TYPES", "SERVICE_PRINCIPAL_SELECT", "DirectoryAnswer", "ServicePrincipal"]

GRANTABLE_TYPES = ("Application", "ManagedIdentity")
"""The `servicePrincipalType`s a prefix row may match (never Legacy or SocialIdp)."""
SERVICE_PRINCIPAL_SELECT = "id,appId,displayName,servicePrincipalNames,servicePrincipalType"


@dataclass(frozen=True, slots=True)
class ServicePrincipal:
    """A service principal as Graph returns it (`$select` of SERVICE_PRINCIPAL_SELECT)."""

    id: str
    app_id: str
    display_name: str
    names: tuple[str, ...]  # servicePrincipalNames
    type: str  # servicePrincipalType: Application, ManagedIdentity, Legacy, SocialIdp

    @classmethod
    def from_graph(cls, data: Mapping[str, Any]) -> ServicePrincipal:
        """From Graph's JSON; ValueError when a field is missing or of the wrong type."""
        texts = {}
        for key in ("id", "appId", "servicePrincipalType"):
            value = data.get(key)
            if not isinstance(value, str) or not value:
                raise ValueError(f"a service principal's {key} must be a non-empty string")
            texts[key] = value
        display = data.get("displayName") or ""
        names = data.get("servicePrincipalNames") or []
        if not isinstance(display, str) or not isinstance(names, list):
            raise ValueError("displayName must be a string and servicePrincipalNames a list")
        return cls(
            texts["id"].lower(), texts["appId"].lower(), display[:256],
            tuple(str(n)[:1000] for n in names[:100] if isinstance(n, str) and n),
            texts["servicePrincipalType"],
        )  # fmt: skip

    @property
    def grantable_by_name(self) -> bool:
        return self.type in GRANTABLE_TYPES

    def name_matching(self, prefix: str) -> str | None:
        """The name (displayName first, then servicePrincipalNames) that starts with `prefix`;
        None when none does or the principal is not of a type a name may grant to."""
        if not self.grantable_by_name:
            return None
        wanted = prefix.lower()
        for name in (self.display_name, *self.names):
            if name and name.lower().startswith(wanted):
                return name
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "appId": self.app_id, "displayName": self.display_name,
            "servicePrincipalNames": list(self.names), "servicePrincipalType": self.type,
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class DirectoryAnswer:
    """What a lookup of one object id gave the pull rows: the service principal, or why there
    is none to match (lookups off, the directory unreadable, no such service principal)."""

    principal: ServicePrincipal | None
    unknown_because: str = ""

    def why_no_prefix_matches(self, principal_id: str) -> str:
        """Why no servicePrincipalNamePrefix row matched `principal_id`."""
        if self.principal is None:
            return self.unknown_because
        sp = self.principal
        if not sp.grantable_by_name:
            return (
                f"{principal_id} is a service principal of type {sp.type}; rows by name match "
                f"only {' and '.join(GRANTABLE_TYPES)} principals"
            )
        names = ", ".join(repr(n) for n in (sp.display_name, *sp.names) if n)
        return f"the directory names {principal_id} {names}, which no row's prefix begins"
