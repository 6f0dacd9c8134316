"""In-memory declared credential sets, with ETags like the table store (mixed into
MemoryPolicyStore)."""

from __future__ import annotations

import threading
import uuid

from shared.declared_port import StoredDeclaration
from shared.domain.declared_sets import DeclaredCredentialSet
from shared.errors import ConcurrencyError, NotFoundError

__all__ = ["MemoryDeclaredSets"]


class MemoryDeclaredSets:
    """Implements the DeclaredSetStore part of the PolicyStore port."""

    def __init__(self) -> None:
        self._declared_lock = threading.RLock()
        self._declared_rows: dict[str, StoredDeclaration] = {}

    def _declared(self) -> dict[str, StoredDeclaration]:
        return self._declared_rows

    def list_declared_sets(self) -> list[StoredDeclaration]:
        rows = self._declared()
        return [rows[k] for k in sorted(rows)]

    def get_declared_set(self, name: str) -> StoredDeclaration:
        try:
            return self._declared()[name.lower()]
        except KeyError:
            raise NotFoundError(f"credential set {name!r} is not declared") from None

    def put_declared_set(
        self, declaration: DeclaredCredentialSet, *, if_match: str | None = None
    ) -> StoredDeclaration:
        with self._declared_lock:
            rows = self._declared()
            current = rows.get(declaration.name)
            if if_match is not None and (current is None or current.etag != if_match):
                raise ConcurrencyError(f"credential set {declaration.name!r} changed since read")
            stored = StoredDeclaration(declaration, uuid.uuid4().hex)
            rows[declaration.name] = stored
            return stored

    def delete_declared_set(self, name: str, *, if_match: str | None = None) -> None:
        with self._declared_lock:
            current = self.get_declared_set(name)
            if if_match is not None and current.etag != if_match:
                raise ConcurrencyError(f"credential set {name!r} changed since read")
            del self._declared()[current.declaration.name]
