"""In-memory Directory: the service principals a test puts in it, readable or not."""

from __future__ import annotations

from shared.domain.directory import ServicePrincipal
from shared.errors import AccessDeniedError, InvalidInputError, NotFoundError

__all__ = ["MemoryDirectory"]


class MemoryDirectory:
    """Implements the Directory port over a dict, with Graph's answers for the cases it has."""

    def __init__(self, *principals: ServicePrincipal, readable: bool = True) -> None:
        self.principals = {p.id.lower(): p for p in principals}
        self.readable = readable
        self.reads: list[str] = []

    def service_principal(self, object_id: str) -> ServicePrincipal:
        self.reads.append(object_id)
        if len(object_id) != 36:
            raise InvalidInputError(f"object id {object_id!r} is not a GUID")
        if not self.readable:
            raise AccessDeniedError("Authorization_RequestDenied: Insufficient privileges")
        found = self.principals.get(object_id.lower())
        if found is None:
            raise NotFoundError(f"Request_ResourceNotFound: Resource '{object_id}' does not exist")
        return found
