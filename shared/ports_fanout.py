"""The FanoutStore port: where a fanned-out audit keeps its runs and per-registry results
(see `shared/ports.py`; the rows are described in `shared/domain/fanout.py`)."""

from __future__ import annotations

from typing import Protocol

from shared.domain.fanout import RegistryResult, Run

__all__ = ["FanoutStore"]


class FanoutStore(Protocol):
    """Runs and results on Table Storage (in memory for tests and sandbox runs without Azurite)."""

    def save_run(self, run: Run) -> None:
        """Record a run before its work items are enqueued (idempotent by run id)."""
        ...

    def get_run(self, run_id: str) -> Run:
        """One run; NotFoundError when absent."""
        ...

    def open_runs(self) -> list[Run]:
        """Runs whose report has not been assembled yet, oldest first."""
        ...

    def save_result(self, run_id: str, result: RegistryResult) -> bool:
        """Keep the registry's result unless it has one already; True when this call wrote it
        (a redelivered work item finds the first result and writes nothing)."""
        ...

    def results(self, run_id: str) -> dict[str, RegistryResult]:
        """The run's results keyed by lower-case registry id."""
        ...

    def close_run(self, run_id: str) -> bool:
        """Mark the run's report assembled; True for exactly one caller, False for the others."""
        ...
