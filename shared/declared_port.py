"""The policy table's declared credential sets (shared/domain/declared_sets.py).

Part of the PolicyStore port, kept apart from shared/ports.py; `PolicyStore` extends it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from shared.domain.declared_sets import DeclaredCredentialSet

__all__ = ["DeclaredSetStore", "StoredDeclaration"]


@dataclass(frozen=True, slots=True)
class StoredDeclaration:
    """A declaration with the ETag it was read with (for optimistic concurrency)."""

    declaration: DeclaredCredentialSet
    etag: str


class DeclaredSetStore(Protocol):
    """Declared credential sets: one row per credential set name."""

    def list_declared_sets(self) -> list[StoredDeclaration]:
        """Every declaration, in name order."""
        ...

    def get_declared_set(self, name: str) -> StoredDeclaration:
        """One declaration; NotFoundError when absent."""
        ...

    def put_declared_set(
        self, declaration: DeclaredCredentialSet, *, if_match: str | None = None
    ) -> StoredDeclaration:
        """Insert or replace; with `if_match`, ConcurrencyError when the row changed since."""
        ...

    def delete_declared_set(self, name: str, *, if_match: str | None = None) -> None:
        """Delete a declaration; NotFoundError when absent, ConcurrencyError when stale."""
        ...
