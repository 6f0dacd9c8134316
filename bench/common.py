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


@dataclass(frozen=True)
class Paired:
    """Paired runs A, B, A, B …: each pair's ratio a / b, and the median of those ratios.

    Drift on a busy machine hits both members of a pair alike, so the per-pair ratio is the
    figure; the medians of A and of B alone are reported for information only."""

    a: tuple[float, ...]
    b: tuple[float, ...]

    @property
    def ratios(self) -> tuple[float, ...]:
        """a / b of each pair."""
        return tuple(x / y for x, y in zip(self.a, self.b, strict=True) if y)

    @property
    def ratio(self) -> float:
        """The median of the per-pair ratios."""
        return median(self.ratios)

    def as_json(self) -> dict[str, Any]:
        """Every sample, every pair's ratio and their median."""
        return {"a": list(self.a), "b": list(self.b), "ratios": list(self.ratios),
                "median_ratio": self.ratio}  # fmt: skip


def paired(a: Callable[[], float], b: Callable[[], float], pairs: int) -> Paired:
    """Run `a` then `b`, `pairs` times (A, B, A, B …); each returns its own measurement."""
    xs: list[float] = []
    ys: list[float] = []
    for _ in range(pairs):
        xs.append(a())
        ys.append(b())
    return Paired(tuple(xs), tuple(ys))


def high_water_mb() -> float:
    """This process's own peak resident set (VmHWM of /proc/self/status), in MB.

    Unlike `ru_maxrss`, which Linux carries across `execve` (a child started from a big process
    reports the parent's peak), VmHWM belongs to the current address space only."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    raise RuntimeError("no VmHWM in /proc/self/status")


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
    paired_ratio: float | None = None

    @property
    def ratio(self) -> float | None:
        """The median of per-pair ratios when the figure was paired, else measured / baseline
        when both are known and the baseline is not zero."""
        if self.paired_ratio is not None:
            return self.paired_ratio
        if self.measured is None or not self.baseline:
            return None
        return self.measured / self.baseline

    def as_json(self) -> dict[str, Any]:
        """JSON form (ratio included)."""
        return asdict(self) | {"ratio": self.ratio}
