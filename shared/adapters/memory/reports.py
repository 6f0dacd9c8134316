"""The in-memory ReportStore: audit reports by id, newest retrievable."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from shared.errors import NotFoundError

__all__ = ["MemoryReportStore"]


class MemoryReportStore:
    """Implements the ReportStore port."""

    def __init__(self) -> None:
        self.reports: dict[str, Mapping[str, Any]] = {}

    def save_report(self, report: Mapping[str, Any]) -> None:
        self.reports[str(report["id"])] = dict(report)

    def get_report(self, report_id: str) -> Mapping[str, Any]:
        try:
            return self.reports[report_id]
        except KeyError:
            raise NotFoundError(f"report {report_id!r} does not exist") from None

    def reports_since(self, since: datetime, *, limit: int) -> list[Mapping[str, Any]]:
        kept = [r for r in self.reports.values()
                if datetime.fromisoformat(str(r["finishedAt"])) >= since]  # fmt: skip
        return sorted(kept, key=lambda r: str(r["finishedAt"]), reverse=True)[: max(limit, 0)]

    def latest_report(self) -> Mapping[str, Any] | None:
        if not self.reports:
            return None
        return max(self.reports.values(), key=lambda r: str(r["finishedAt"]))
