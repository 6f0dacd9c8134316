"""The policy table on Azure Table Storage: one row per policy, typed columns, ETags."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from shared.adapters.tables._client import LazyTable, sdk_errors
from shared.adapters.tables._conditional import delete_row, put_row
from shared.adapters.tables.declared_sets import DeclaredSetRows
from shared.adapters.tables.pull_policies import PullPolicyRows
from shared.domain.policies import Policy
from shared.errors import ConcurrencyError, InvalidInputError, NotFoundError
from shared.ports import StoredPolicy

if TYPE_CHECKING:
    from azure.data.tables import TableServiceClient

__all__ = ["TablePolicyStore"]

_log = logging.getLogger(__name__)
_PARTITION = "policy"
_BATCH = 100  # entity-group transactions hold at most 100 operations, all in one partition
_KEY_FORBIDDEN = frozenset("/\\#?")


class TablePolicyStore(PullPolicyRows, DeclaredSetRows):
    """Implements the PolicyStore port on a table: PartitionKey 'policy', RowKey = policy id
    (pull rows: PartitionKey 'pull-policy', `pull_policies.py`; declared credential sets:
    PartitionKey 'credential-set', `declared_sets.py`).

    Each field is its own typed column (what an operator sees and edits in Storage Explorer);
    `changedAt` stays an ISO string so `Policy.from_dict` gets back exactly what `to_dict` gave.
    """

    def __init__(self, service: TableServiceClient, table_name: str) -> None:
        self._table = LazyTable(service, table_name)

    def list_policies(self) -> list[StoredPolicy]:
        """Every valid row in id order; rows that no longer validate are skipped with a warning."""
        rows: list[StoredPolicy] = []
        for entity in self._query():
            try:
                rows.append(_stored(entity))
            except InvalidInputError as exc:
                # A hand-edited row must not take the whole table down with it.
                _log.warning("skipping invalid policy row %r: %s", entity.get("RowKey"), exc)
        return sorted(rows, key=lambda row: row.policy.id)

    def get_policy(self, policy_id: str) -> StoredPolicy:
        """One row; NotFoundError when absent, InvalidPolicyError when it no longer validates."""
        if not _storable(policy_id):
            raise NotFoundError(f"policy {policy_id!r} does not exist")
        try:
            with sdk_errors(f"read policy {policy_id!r}"):
                entity = self._table.client().get_entity(_PARTITION, policy_id)
        except NotFoundError:
            raise NotFoundError(f"policy {policy_id!r} does not exist") from None
        return _stored(entity)

    def put_policy(self, policy: Policy, *, if_match: str | None = None) -> StoredPolicy:
        """Insert or replace a row; with `if_match`, ConcurrencyError when the row changed since."""
        policy.validate()  # never write a row that would not read back
        etag = put_row(
            self._table.client(), _entity(policy), if_match=if_match,
            subject=f"policy {policy.id!r}", what=f"policy {policy.id!r}",
        )  # fmt: skip
        return StoredPolicy(policy, etag)

    def delete_policy(self, policy_id: str, *, if_match: str | None = None) -> None:
        """Delete a row; NotFoundError when absent, ConcurrencyError when `if_match` is stale."""
        if not _storable(policy_id):
            raise NotFoundError(f"policy {policy_id!r} does not exist")
        found = delete_row(
            self._table.client(), _PARTITION, policy_id, if_match=if_match,
            subject=f"policy {policy_id!r}", what=f"policy {policy_id!r}",
        )  # fmt: skip
        if not found:
            raise NotFoundError(f"policy {policy_id!r} does not exist")

    def replace_all(self, policies: Sequence[Policy]) -> None:
        """Make the table hold exactly these rows (the last row wins when ids repeat).

        Not one transaction: Table Storage commits at most 100 operations of one partition
        atomically, so each batch of 100 is all-or-nothing and the import as a whole is not. New
        and changed rows are written first and stale rows deleted last, so a failure part-way
        leaves every new row or every old row in place (never an empty table), and running the
        import again finishes it. A writer racing the import may see its row deleted.
        """
        from azure.data.tables import UpdateMode

        wanted: dict[str, Policy] = {}
        for policy in policies:
            policy.validate()  # validate everything before writing anything
            wanted[policy.id] = policy
        table = self._table.client()
        present = {str(entity["RowKey"]) for entity in self._query(select=["RowKey"])}
        operations: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
            ("upsert", _entity(wanted[key]), {"mode": UpdateMode.REPLACE}) for key in sorted(wanted)
        ]
        operations += [
            ("delete", {"PartitionKey": _PARTITION, "RowKey": key}, {})
            for key in sorted(present - wanted.keys())
        ]
        for start in range(0, len(operations), _BATCH):
            batch = operations[start : start + _BATCH]
            try:
                with sdk_errors(f"import policies (batch {start // _BATCH + 1})"):
                    table.submit_transaction(batch)
            except NotFoundError:
                # A stale row vanished under us; the batch rolled back, and a rerun converges.
                raise ConcurrencyError(
                    "the policy table changed during the import; run the import again"
                ) from None

    def _query(self, *, select: list[str] | None = None) -> Iterator[Mapping[str, Any]]:
        with sdk_errors("list policies"):
            yield from self._table.client().query_entities(
                "PartitionKey eq @pk", parameters={"pk": _PARTITION}, select=select
            )


def _entity(policy: Policy) -> dict[str, Any]:
    data = policy.to_dict()
    entity: dict[str, Any] = {"PartitionKey": _PARTITION, "RowKey": data.pop("id")}
    # Tables cannot hold nulls: an absent column reads back as None.
    entity.update({key: value for key, value in data.items() if value is not None})
    return entity


def _stored(entity: Mapping[str, Any]) -> StoredPolicy:
    data = {k: v for k, v in entity.items() if k not in {"PartitionKey", "RowKey", "Timestamp"}}
    data["id"] = entity["RowKey"]
    etag = getattr(entity, "metadata", {}).get("etag", "")
    return StoredPolicy(Policy.from_dict(data), str(etag))


def _storable(policy_id: str) -> bool:
    # Ids the table cannot hold cannot exist; refusing them early avoids malformed request URLs.
    return bool(policy_id) and not any(
        ch in _KEY_FORBIDDEN or ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in policy_id
    )
