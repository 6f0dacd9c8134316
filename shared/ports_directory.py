"""The Directory port: what the services need from Microsoft Entra ID (see `shared/ports.py`)."""

from __future__ import annotations

from typing import Protocol

from shared.domain.directory import ServicePrincipal

__all__ = ["Directory"]


class Directory(Protocol):
    """Microsoft Entra ID, read through Microsoft Graph (only when DIRECTORY_LOOKUP is on)."""

    def service_principal(self, object_id: str) -> ServicePrincipal:
        """The service principal with this object id; NotFoundError when the directory has none
        (Graph's `Request_ResourceNotFound`: a user, a group, a deleted principal),
        AccessDeniedError when the app may not read it (`Authorization_RequestDenied`),
        InvalidInputError when `object_id` is not a GUID."""
        ...
