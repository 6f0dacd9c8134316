"""`python -m bench [--quick]`: every figure against its baseline in one run; prints one table of
ratios and writes bench/results.json. Exit status 1 when a budgeted figure misses its budget."""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bench.common import ROOT, Row, app_environment

RESULTS = ROOT / "bench" / "results.json"


def _economy_rows() -> list[Row]:
    from bench.audit_calls import audit_call_rows
    from bench.economy import TABLE_BOUND, all_economies
    from bench.journal import azurite_journals

    with azurite_journals() as journals:
        economies = all_economies(journals=journals)
    rows = []
    for e in economies:
        writes_ok = e.writes == e.minimum_writes
        budgeted = e.name.startswith(("rotation", "replayed", "late"))
        rows.append(
            Row("3", f"calls: {e.name}", float(e.calls), float(e.minimum), "calls",
                "= minimum" if budgeted else "reference",
                (e.calls == e.minimum and writes_ok) if budgeted else None,
                f"writes {e.writes} (minimum {e.minimum_writes}); Key Vault challenges {e.challenges}; "
                f"Table Storage {e.table_calls}; {e.status}",
                {"by_kind": e.by_kind, "minimum_by_kind": e.minimum_by_kind,
                 "table_by_kind": e.table_by_kind}),
        )  # fmt: skip
        if e.name.startswith("rotation"):
            rows.append(
                Row("3", f"Table Storage calls: {e.name} (journal on Azurite)", float(e.table_calls),
                    float(TABLE_BOUND), "calls", f"<= {TABLE_BOUND}", e.table_calls <= TABLE_BOUND,
                    "every request, retries and table creation included",
                    {"table_by_kind": e.table_by_kind}),
            )  # fmt: skip
    return rows + audit_call_rows()


def _machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo").read().splitlines():  # noqa: SIM115
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip(),
    }


def _format(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "s":
        return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"
    if unit == "events/s":
        return f"{value:,.0f}/s"
    if unit == "calls":
        return f"{value:.0f}"
    return f"{value:.1f} {unit}"


def table(rows: list[Row]) -> str:
    """The results as one Markdown table of ratios."""
    lines = [
        "| # | figure | measured | baseline | ratio | budget | ok |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ratio = f"{r.ratio:.2f}x" if r.ratio is not None else "n/a"
        ok = {True: "yes", False: "**NO**", None: ""}[r.ok]
        name = r.name if not r.note.startswith("unavailable") else f"{r.name} ({r.note})"
        lines.append(
            f"| {r.figure} | {name} | {_format(r.measured, r.unit)} | "
            f"{_format(r.baseline, r.unit)} | {ratio} | {r.budget} | {ok} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the suite."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--repeat",
        type=int,
        default=15,
        help="paired fresh interpreters per figure-1 row (at least 15)",
    )
    parser.add_argument("--only", default="13456", help="figures to run, e.g. 1346")
    args = parser.parse_args(argv)
    os.environ.update(app_environment())  # shared.settings imports read the app's environment

    from bench.cold_start import cold_start
    from bench.latency import rotation_latency
    from bench.overhead import overhead
    from bench.scale import scale

    figures: dict[str, Callable[[], list[Row]]] = {
        "1": lambda: cold_start(args.repeat),
        # figure 2 (peak RSS) is measured inside figure 1's probes (VmHWM), its rows are there
        "3": _economy_rows,
        "4": lambda: [rotation_latency()],
        "5": scale,
        "6": overhead,
    }
    rows: list[Row] = []
    timings: dict[str, float] = {}
    for figure, run in figures.items():
        if figure not in args.only:
            continue
        start = time.perf_counter()
        rows.extend(run())
        timings[figure] = time.perf_counter() - start
        print(f"figure {figure}: {timings[figure]:.1f} s", file=sys.stderr, flush=True)
    result: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": _machine(),
        "seconds_per_figure": timings,
        "rows": [r.as_json() for r in rows],
    }
    RESULTS.write_text(json.dumps(result, indent=2, default=str) + "\n")
    machine = result["machine"]
    print(f"\ncachekeeper bench — {machine['nproc']} x {machine['cpu']}, Python {machine['python']}, "
          f"commit {machine['commit']}\n")  # fmt: skip
    print(table(rows))
    print(f"\nwritten: {RESULTS.relative_to(ROOT)}")
    return 1 if any(r.ok is False for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
