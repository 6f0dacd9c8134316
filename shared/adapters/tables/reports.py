"""Audit reports on Azure Table Storage: one entity per report, the JSON split across properties.

A table entity holds at most 1 MiB and a string property 64 KiB, so a report is stored in parts of
30,000 characters (UTF-16 safe) up to ~900 KB; bigger reports keep their summary and drop the
tail of their findings list, saying so.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shared.adapters.tables._client import LazyTable, sdk_errors
from shared.errors import NotFoundError

if TYPE_CHECKING:
    from azure.data.tables import TableClient, TableServiceClient

__all__ = ["TableReportStore"]

_PARTITION = "report"
_PART = 30_000
_MAX_PARTS = 28


def _inverted(finished: datetime) -> str:
    return f"{10**16 - int(finished.timestamp() * 1_000_000):017d}"


def _row_key(report: Mapping[str, Any]) -> str:
    return f"{_inverted(datetime.fromisoformat(str(report['finishedAt'])))}-{report['id']}"


def _fit(report: Mapping[str, Any]) -> str:
    text = json.dumps(report, sort_keys=True, default=str)
    findings = list(report.get("findings") or [])
    while len(text) > _PART * _MAX_PARTS and findings:
        findings = findings[: len(findings) // 2]
        trimmed = dict(report, findings=findings, findingsTruncated=True)
        text = json.dumps(trimmed, sort_keys=True, default=str)
    return text


class TableReportStore:
    """Implements the ReportStore port."""

    def __init__(self, service: TableServiceClient, table_name: str) -> None:
        self._table = LazyTable(service, table_name)

    def _client(self) -> TableClient:
        return self._table.client()

    def save_report(self, report: Mapping[str, Any]) -> None:
        text = _fit(report)
        entity: dict[str, Any] = {
            "PartitionKey": _PARTITION,
            "RowKey": _row_key(report),
            "ReportId": str(report["id"]),
        }
        for index in range(0, len(text), _PART):
            entity[f"Chunk{index // _PART:02d}"] = text[index : index + _PART]
        with sdk_errors(f"saving report {report['id']}"):
            self._client().upsert_entity(entity)

    def _read_all(
        self, filter_text: str, parameters: dict[str, Any], limit: int
    ) -> list[Mapping[str, Any]]:
        found: list[Mapping[str, Any]] = []
        with sdk_errors("reading reports"):
            pages = self._client().query_entities(
                filter_text, parameters=parameters, results_per_page=min(limit, 1000)
            )
            for entity in pages:
                parts = sorted(k for k in entity if k.startswith("Chunk"))
                found.append(json.loads("".join(entity[k] for k in parts)))
                if len(found) >= limit:
                    break
        return found

    def _read(
        self, filter_text: str, parameters: dict[str, Any], limit: int
    ) -> Mapping[str, Any] | None:
        found = self._read_all(filter_text, parameters, limit)
        return found[0] if found else None

    def reports_since(self, since: datetime, *, limit: int) -> list[Mapping[str, Any]]:
        """Reports finished at or after `since`, newest first: one range of RowKeys (their
        inverted finish time sorts newest first)."""
        if limit <= 0:
            return []
        before = f"{_inverted(since)}."  # '.' sorts after the '-' of every key at `since`
        return self._read_all("PartitionKey eq @p and RowKey lt @before",
                              {"p": _PARTITION, "before": before}, limit)  # fmt: skip

    def get_report(self, report_id: str) -> Mapping[str, Any]:
        found = self._read(
            "PartitionKey eq @p and ReportId eq @id", {"p": _PARTITION, "id": report_id}, 1
        )
        if found is None:
            raise NotFoundError(f"report {report_id!r} does not exist")
        return found

    def latest_report(self) -> Mapping[str, Any] | None:
        return self._read("PartitionKey eq @p", {"p": _PARTITION}, 1)
