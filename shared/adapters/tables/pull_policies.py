"""Pull rows of the policy table: PartitionKey 'pull-policy', RowKey = row id, typed columns."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from shared.adapters.tables._client import LazyTable, sdk_errors
from shared.domain.pull_policies import PullPolicy
from shared.errors import InvalidInputError, NotFoundError

__all__ = ["PULL_PARTITION", "PullPolicyRows"]

_log = logging.getLogger(__name__)
PULL_PARTITION = "pull-policy"


class PullPolicyRows:
    """The PolicyStore port's pull rows (mixed into TablePolicyStore, which owns `_table`)."""

    _table: LazyTable

    def list_pull_policies(self) -> list[PullPolicy]:
        rows: list[PullPolicy] = []
        with sdk_errors("list pull policies"):
            entities = list(
                self._table.client().query_entities(
                    "PartitionKey eq @pk", parameters={"pk": PULL_PARTITION}
                )
            )
        for entity in entities:
            try:
                rows.append(_row(entity))
            except InvalidInputError as exc:
                _log.warning("skipping invalid pull policy row %r: %s", entity.get("RowKey"), exc)
        return sorted(rows, key=lambda row: row.id)

    def put_pull_policy(self, policy: PullPolicy) -> None:
        from azure.data.tables import UpdateMode

        data = policy.to_dict()
        entity: dict[str, Any] = {"PartitionKey": PULL_PARTITION, "RowKey": data.pop("id")}
        entity.update({k: v for k, v in data.items() if v is not None})
        with sdk_errors(f"write pull policy {policy.id!r}"):
            self._table.client().upsert_entity(entity, mode=UpdateMode.REPLACE)

    def delete_pull_policy(self, policy_id: str) -> None:
        try:
            with sdk_errors(f"read pull policy {policy_id!r}"):
                self._table.client().get_entity(PULL_PARTITION, policy_id)
        except NotFoundError:
            raise NotFoundError(f"pull policy {policy_id!r} does not exist") from None
        with sdk_errors(f"delete pull policy {policy_id!r}"):
            self._table.client().delete_entity(PULL_PARTITION, policy_id)


def _row(entity: Mapping[str, Any]) -> PullPolicy:
    data = {k: v for k, v in entity.items() if k not in {"PartitionKey", "RowKey", "Timestamp"}}
    return PullPolicy.from_dict(data | {"id": entity["RowKey"]})
