"""The FanoutStore port in memory, with the Table Storage adapter's rules (first result wins,
one closer per run)."""

from __future__ import annotations

import threading

from shared.domain.fanout import RegistryResult, Run
from shared.errors import NotFoundError

__all__ = ["MemoryFanoutStore"]


class MemoryFanoutStore:
    """Implements the FanoutStore port."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.runs: dict[str, Run] = {}
        self.closed: set[str] = set()
        self.results_by_run: dict[str, dict[str, RegistryResult]] = {}

    def save_run(self, run: Run) -> None:
        with self._lock:
            self.runs.setdefault(run.run_id, run)

    def get_run(self, run_id: str) -> Run:
        with self._lock:
            try:
                return self.runs[run_id]
            except KeyError:
                raise NotFoundError(f"audit run {run_id!r} does not exist") from None

    def open_runs(self) -> list[Run]:
        with self._lock:
            runs = [r for r in self.runs.values() if r.run_id not in self.closed]
        return sorted(runs, key=lambda r: r.started_at)

    def save_result(self, run_id: str, result: RegistryResult) -> bool:
        key = str(result.registry).lower()
        with self._lock:
            kept = self.results_by_run.setdefault(run_id, {})
            if key in kept:
                return False
            kept[key] = result
            return True

    def results(self, run_id: str) -> dict[str, RegistryResult]:
        with self._lock:
            return dict(self.results_by_run.get(run_id, {}))

    def close_run(self, run_id: str) -> bool:
        with self._lock:
            if run_id in self.closed:
                return False
            self.closed.add(run_id)
            return True
