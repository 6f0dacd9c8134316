"""What every figure shares: the repository root, the app's environment, a figure record."""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH_VENV = ROOT / ".tools" / "bench-venv"


def app_environment() -> dict[str, str]:
    """The process environment plus local.settings.example.json `Values` (what the worker has)."""
    values: dict[str, str] = json.loads((ROOT / "local.settings.example.json").read_text())[
        "Values"
    ]
    env = dict(os.environ)
    for name, value in values.items():
        env.setdefault(name, value)
    env["PYTHONDONTWRITEBYTECODE"] = "0"
    return env


def time_alone(call: Callable[[], object], repeat: int = 3) -> float:
    """Median wall time of `call` made on its own (the weight of one call in a critical path)."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return median(samples)


def median(values: Sequence[float]) -> float:
    """The median (0 for no values)."""
    return statistics.median(values) if values else 0.0


@dataclass
class Row:
    """One line of the results table: a measured value against its baseline."""

    figure: str
    name: str
    measured: float | None
    baseline: float | None
    unit: str
    budget: str = ""
    ok: bool | None = None
    note: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        """measured / baseline, when both are known and the baseline is not zero."""
        if self.measured is None or not self.baseline:
            return None
        return self.measured / self.baseline

    def as_json(self) -> dict[str, Any]:
        """JSON form (ratio included)."""
        return asdict(self) | {"ratio": self.ratio}
