"""The report store port: audit reports kept as JSON documents (re-exported by shared/ports.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from shared.history_port import ReportHistory

__all__ = ["ReportStore"]


class ReportStore(ReportHistory, Protocol):
    """Audit reports: JSON documents kept by id, newest retrievable."""

    def save_report(self, report: Mapping[str, Any]) -> None:
        """Store a report; it must carry "id" and "finishedAt"."""
        ...

    def get_report(self, report_id: str) -> Mapping[str, Any]:
        """One report; NotFoundError when absent."""
        ...

    def latest_report(self) -> Mapping[str, Any] | None:
        """The most recently finished report, if any."""
        ...
