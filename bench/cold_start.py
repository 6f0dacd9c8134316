"""Figures 1 and 2: the import the worker does at indexing, in fresh interpreters.

Each sample is a new `python` process that times one import statement with `perf_counter`
(interpreter start-up is the same for every variant and left out) and reports its peak RSS.
Variants are interleaved so drift on a busy machine hits them alike; the median is reported.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.common import BENCH_VENV, ROOT, Row, app_environment, median

# Every SDK the product can use, imported up front: what a non-lazy app would pay at indexing.
EAGER_SDKS = (
    "azure.identity",
    "azure.keyvault.secrets",
    "azure.mgmt.containerregistry",
    "azure.mgmt.authorization",
    "azure.mgmt.keyvault",
    "azure.containerregistry",
    "azure.data.tables",
)

_PROBE = """
import resource, sys, time, json
t = time.perf_counter()
{imports}
elapsed = time.perf_counter() - t
{after}
print(json.dumps({{"seconds": elapsed, "rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                   "modules": len(sys.modules)}}))
"""

# After indexing: the worker calls app.get_functions(); then one Key Vault event, through the
# trigger function itself, against the embedded sandbox (sandbox mode, in-memory stores).
_INDEX = """
import function_app
functions = function_app.app.get_functions()
"""
_FIRST_EVENT = """
import function_app, resource, azure.functions as func
from sandbox.embedded import get_sandbox
from sandbox.wiring import wire_sandbox_mode
wire_sandbox_mode()
sb = get_sandbox()
index_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
rotated = sb.add_secret_version("kv-cache-rbac", "dockerhub-password")
e = rotated["eventGrid"]
event = func.EventGridEvent(id=e["id"], data=e["data"], topic=e["topic"], subject=e["subject"],
                            event_type=e["eventType"], event_time=None, data_version=e["dataVersion"])
handler = next(f for f in function_app.app.get_functions() if f.get_function_name() == "on_keyvault_event")
from devhost.app_index import InvocationContext
handler.get_user_function()(event, InvocationContext(function_name="on_keyvault_event", invocation_id="bench"))
assert sb.write_count() >= 1, "the first event changed nothing"
"""


def _run(python: Path | str, imports: str, after: str = "") -> dict[str, Any]:
    code = _PROBE.format(imports=imports.strip(), after=after.strip())
    done = subprocess.run(  # noqa: S603 - our own interpreter, our own code
        [str(python), "-c", code],
        cwd=ROOT,
        env=app_environment(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"probe failed ({imports!r}): {done.stderr.strip()[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _samples(
    python: Path | str, variants: dict[str, str], repeat: int
) -> dict[str, list[dict[str, Any]]]:
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in variants}
    for _ in range(repeat):
        for name, imports in variants.items():
            runs[name].append(_run(python, imports))
    return runs


def _c7n_status() -> tuple[Path | None, str]:
    python = BENCH_VENV / "bin" / "python"
    failure = BENCH_VENV / "c7n-unavailable.txt"
    if failure.exists():
        return None, failure.read_text().strip() or "c7n-azure could not be installed"
    if not python.exists():
        return None, f"no benchmark venv at {BENCH_VENV} (make bench creates it)"
    probe = subprocess.run(  # noqa: S603
        [str(python), "-c", "import c7n_azure.function"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if probe.returncode != 0:
        return None, "c7n_azure.function does not import: " + probe.stderr.strip()[-300:]
    return python, ""


def cold_start(repeat: int) -> list[Row]:
    """Figure 1: import cost of function_app vs bare azure.functions, eager SDKs and c7n-azure."""
    variants = {
        "bare": "import azure.functions",
        "app": "import function_app",
        "eager": "\n".join(f"import {m}" for m in EAGER_SDKS) + "\nimport function_app",
    }
    runs = _samples(sys.executable, variants, repeat)
    seconds = {name: median([r["seconds"] for r in samples]) for name, samples in runs.items()}
    modules = {name: samples[0]["modules"] for name, samples in runs.items()}
    rows = [
        Row("1", "cold start: import function_app / import azure.functions", seconds["app"],
            seconds["bare"], "s", "<= 1.5x", seconds["app"] <= 1.5 * seconds["bare"],
            f"median of {repeat} fresh interpreters each",
            {"modules": modules, "samples": {k: [r["seconds"] for r in v] for k, v in runs.items()}}),
        Row("1", "cold start: eager (every SDK up front) / import azure.functions",
            seconds["eager"], seconds["bare"], "s", "reference", None,
            "what lazy SDK imports save", {"sdks": list(EAGER_SDKS)}),
    ]  # fmt: skip
    python, reason = _c7n_status()
    if python is None:
        rows.append(Row("1", "cold start: c7n_azure.function / import azure.functions", None,
                        seconds["bare"], "s", "reference", None, f"unavailable: {reason}"))  # fmt: skip
        return rows
    peer = _samples(
        python, {"bare": "import azure.functions", "c7n": "import c7n_azure.function"}, repeat
    )
    peer_bare = median([r["seconds"] for r in peer["bare"]])
    peer_c7n = median([r["seconds"] for r in peer["c7n"]])
    rows.append(
        Row("1", "cold start: c7n_azure.function / import azure.functions (bench venv)",
            peer_c7n, peer_bare, "s", "reference", None,
            f"Cloud Custodian's Azure function entry point; function_app is {peer_c7n / seconds['app']:.1f}x faster",
            {"modules": peer["c7n"][0]["modules"], "function_app_seconds": seconds["app"]})
    )  # fmt: skip
    return rows


def peak_rss(repeat: int) -> list[Row]:
    """Figure 2: peak RSS after indexing and after the first handled event vs bare azure.functions."""
    bare = [_run(sys.executable, "import azure.functions")["rss_kb"] for _ in range(repeat)]
    index = [_run(sys.executable, _INDEX)["rss_kb"] for _ in range(repeat)]
    event = [_run(sys.executable, _FIRST_EVENT)["rss_kb"] for _ in range(repeat)]
    mb = 1024.0
    return [
        Row("2", "peak RSS after indexing / import azure.functions", median(index) / mb,
            median(bare) / mb, "MB", "reference", None, "import function_app + app.get_functions()"),
        Row("2", "peak RSS after the first handled event / import azure.functions",
            median(event) / mb, median(bare) / mb, "MB", "reference", None,
            "on_keyvault_event through the trigger function, embedded sandbox, in-memory stores; "
            "includes the sandbox itself"),
    ]  # fmt: skip
