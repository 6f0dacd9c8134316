"""Declared credential sets in the policy table: PartitionKey 'credential-set', RowKey = the
credential set's name, typed columns (registries comma-separated), ETags."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from shared.adapters.tables._client import LazyTable, sdk_errors
from shared.adapters.tables._conditional import delete_row, put_row
from shared.declared_port import StoredDeclaration
from shared.domain.declared_sets import DeclaredCredentialSet
from shared.domain.names import validate_rule_name
from shared.errors import InvalidInputError, NotFoundError

if TYPE_CHECKING:
    pass

__all__ = ["DECLARED_PARTITION", "DeclaredSetRows"]

_log = logging.getLogger(__name__)
DECLARED_PARTITION = "credential-set"


class DeclaredSetRows:
    """The PolicyStore port's declared credential sets (mixed into TablePolicyStore, which owns
    `_table`)."""

    _table: LazyTable

    def list_declared_sets(self) -> list[StoredDeclaration]:
        """Every valid row in name order; a row that no longer validates is skipped, warned."""
        with sdk_errors("list declared credential sets"):
            entities = list(
                self._table.client().query_entities(
                    "PartitionKey eq @pk", parameters={"pk": DECLARED_PARTITION}
                )
            )
        rows: list[StoredDeclaration] = []
        for entity in entities:
            try:
                rows.append(_stored(entity))
            except InvalidInputError as exc:
                _log.warning(
                    "skipping invalid credential set row %r: %s", entity.get("RowKey"), exc
                )
        return sorted(rows, key=lambda row: row.declaration.name)

    def get_declared_set(self, name: str) -> StoredDeclaration:
        key = _key(name)
        try:
            with sdk_errors(f"read declared credential set {key!r}"):
                entity = self._table.client().get_entity(DECLARED_PARTITION, key)
        except NotFoundError:
            raise NotFoundError(f"credential set {name!r} is not declared") from None
        return _stored(entity)

    def put_declared_set(
        self, declaration: DeclaredCredentialSet, *, if_match: str | None = None
    ) -> StoredDeclaration:
        declaration.validate()  # never write a row that would not read back
        etag = put_row(
            self._table.client(), _entity(declaration), if_match=if_match,
            subject=f"credential set {declaration.name!r}",
            what=f"declared credential set {declaration.name!r}",
        )  # fmt: skip
        return StoredDeclaration(declaration, etag)

    def delete_declared_set(self, name: str, *, if_match: str | None = None) -> None:
        key = _key(name)
        found = delete_row(
            self._table.client(), DECLARED_PARTITION, key, if_match=if_match,
            subject=f"credential set {name!r}", what=f"declared credential set {key!r}",
        )  # fmt: skip
        if not found:
            raise NotFoundError(f"credential set {name!r} is not declared")


def _key(name: str) -> str:
    """The row key: a valid credential set name, lower-case (anything else cannot be a row)."""
    try:
        return validate_rule_name(name, kind="credential set").lower()
    except InvalidInputError:
        raise NotFoundError(f"credential set {name!r} is not declared") from None


def _entity(declaration: DeclaredCredentialSet) -> dict[str, Any]:
    data = declaration.to_dict()
    return {
        "PartitionKey": DECLARED_PARTITION,
        "RowKey": data.pop("name"),
        **data,
        "registries": ",".join(declaration.registries),
    }


def _stored(entity: Mapping[str, Any]) -> StoredDeclaration:
    data = {k: v for k, v in entity.items() if k not in {"PartitionKey", "RowKey", "Timestamp"}}
    registries = data.get("registries")
    data["registries"] = registries.split(",") if isinstance(registries, str) else registries
    data["name"] = entity["RowKey"]
    etag = getattr(entity, "metadata", {}).get("etag", "")
    return StoredDeclaration(DeclaredCredentialSet.from_dict(data), str(etag))
