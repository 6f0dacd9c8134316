"""The fanned-out audit's runs and per-registry results on Azure Table Storage.

One row per run (partition `run`, row key the run id) and one per registry result (partition
`result-<run id>`, row key a hash of the lower-case registry id: ids hold `/`, which row keys may
not). A result is created, never replaced, so the first one wins when a work item is delivered
twice; the run row is closed with an ETag-conditional replace, so exactly one consumer assembles
the report. A result's JSON is split across properties as the report store does.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shared.adapters.tables._client import LazyTable, sdk_errors
from shared.adapters.tables._rows import replace_unless_changed
from shared.domain.fanout import RegistryResult, Run
from shared.domain.ids import ResourceId
from shared.errors import ConflictError, NotFoundError

if TYPE_CHECKING:
    from azure.data.tables import TableClient, TableServiceClient

__all__ = ["TableFanoutStore"]

_RUNS = "run"
_PART = 30_000
_MAX_PARTS = 28


def _result_row(result: RegistryResult) -> str:
    return hashlib.sha256(str(result.registry).lower().encode()).hexdigest()


def _fit(result: RegistryResult) -> str:
    document = result.to_dict()
    text = json.dumps(document, sort_keys=True)
    findings = list(document["findings"])
    while len(text) > _PART * _MAX_PARTS and findings:
        findings = findings[: len(findings) // 2]
        text = json.dumps(document | {"findings": findings, "truncated": True}, sort_keys=True)
    return text


def _run(entity: Any) -> Run:
    return Run(
        str(entity["RowKey"]),
        datetime.fromisoformat(str(entity["StartedAt"])),
        tuple(ResourceId.parse(r) for r in json.loads(str(entity["Registries"]))),
    )


class TableFanoutStore:
    """Implements the FanoutStore port."""

    def __init__(self, service: TableServiceClient, table_name: str) -> None:
        self._table = LazyTable(service, table_name)

    def _client(self) -> TableClient:
        return self._table.client()

    def save_run(self, run: Run) -> None:
        entity = {
            "PartitionKey": _RUNS,
            "RowKey": run.run_id,
            "StartedAt": run.started_at.isoformat(),
            "Registries": json.dumps([str(r) for r in run.registries]),
            "Closed": False,
        }
        try:
            with sdk_errors(f"saving audit run {run.run_id}"):
                self._client().create_entity(entity)
        except ConflictError:
            pass  # the run is recorded already (a retried timer)

    def get_run(self, run_id: str) -> Run:
        with sdk_errors(f"reading audit run {run_id}"):
            try:
                return _run(self._client().get_entity(_RUNS, run_id))
            except NotFoundError:
                raise NotFoundError(f"audit run {run_id!r} does not exist") from None

    def open_runs(self) -> list[Run]:
        with sdk_errors("reading open audit runs"):
            rows = self._client().query_entities(
                "PartitionKey eq @p and Closed eq false", parameters={"p": _RUNS}
            )
            runs = [_run(row) for row in rows]
        return sorted(runs, key=lambda r: r.started_at)

    def save_result(self, run_id: str, result: RegistryResult) -> bool:
        text = _fit(result)
        entity: dict[str, Any] = {
            "PartitionKey": f"result-{run_id}",
            "RowKey": _result_row(result),
            "Registry": str(result.registry),
        }
        for index in range(0, len(text), _PART):
            entity[f"Chunk{index // _PART:02d}"] = text[index : index + _PART]
        try:
            with sdk_errors(f"saving the audit result of {result.registry.name}"):
                self._client().create_entity(entity)
        except ConflictError:
            return False
        return True

    def results(self, run_id: str) -> dict[str, RegistryResult]:
        found: dict[str, RegistryResult] = {}
        with sdk_errors(f"reading the results of audit run {run_id}"):
            rows = self._client().query_entities(
                "PartitionKey eq @p", parameters={"p": f"result-{run_id}"}
            )
            for row in rows:
                parts = sorted(k for k in row if k.startswith("Chunk"))
                result = RegistryResult.from_dict(json.loads("".join(row[k] for k in parts)))
                found[str(result.registry).lower()] = result
        return found

    def close_run(self, run_id: str) -> bool:
        client = self._client()
        with sdk_errors(f"reading audit run {run_id}"):
            current = client.get_entity(_RUNS, run_id)
        if current.get("Closed"):
            return False
        entity = dict(current) | {"Closed": True}
        return replace_unless_changed(client, entity, str(current.metadata["etag"])) is not None
