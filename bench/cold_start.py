"""Figure 1: the cold path, in fresh interpreters, each figure paired against a bare
`import azure.functions` (A, B, A, B …; the median of the per-pair ratios).

Each sample is a new `python` process that times its own region with `perf_counter` (interpreter
start-up is the same for every variant and left out) and reports its own peak RSS as VmHWM
(`high_water_mb`, read inside the probe: `ru_maxrss` would report the bench process's peak).

- indexing: `import function_app` + `app.get_functions()` (what the Functions host needs).
- first handled event: indexing, then one Key Vault event through the `on_keyvault_event` trigger
  function in sandbox mode (in-memory stores). The embedded sandbox is Azure's stand-in, not
  product code: it is built and the rotation is made *before* the timer starts, and its own build
  time is reported apart. It loads azure.core (its transport), so the product's share of azure.core
  is not in the timed region; the row names the azure modules that were already loaded. A second,
  reference row times the whole timeline (sandbox included) as an upper bound.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from bench.common import ROOT, Paired, Row, app_environment, paired

_PROBE = """
import sys, time, json
sys.path.insert(0, {root!r})
from bench.common import high_water_mb
{before}
t = time.perf_counter()
{timed}
elapsed = time.perf_counter() - t
print(json.dumps({{"seconds": elapsed, "hwm_mb": high_water_mb(), "modules": len(sys.modules),
                   **extra}}))
"""
_BARE = "import azure.functions"
_INDEX = """
import function_app
functions = function_app.app.get_functions()
"""
# the sandbox (Azure's stand-in) and the rotation it announces: before the timer
_SANDBOX = """
s = time.perf_counter()
from sandbox.embedded import get_sandbox
sb = get_sandbox()
rotated = sb.add_secret_version("kv-cache-rbac", "dockerhub-password")
extra = {"sandbox_seconds": time.perf_counter() - s,
         "preloaded_azure": sorted({m for m in sys.modules if m.startswith("azure.")
                                    and m.count(".") == 1})}
"""
_EVENT = """
import function_app
functions = function_app.app.get_functions()
import azure.functions as func
from sandbox.wiring import wire_sandbox_mode
wire_sandbox_mode()
e = rotated["eventGrid"]
event = func.EventGridEvent(id=e["id"], data=e["data"], topic=e["topic"], subject=e["subject"],
                            event_type=e["eventType"], event_time=None, data_version=e["dataVersion"])
handler = next(f for f in functions if f.get_function_name() == "on_keyvault_event")
from devhost.app_index import InvocationContext
handler.get_user_function()(event, InvocationContext(function_name="on_keyvault_event",
                                                     invocation_id="bench"))
assert sb.write_count() >= 1, "the first event changed nothing"
"""


def _run(timed: str, before: str = "extra = {}") -> dict[str, Any]:
    code = _PROBE.format(root=str(ROOT), before=before.strip(), timed=timed.strip())
    done = subprocess.run(  # noqa: S603 - our own interpreter, our own code
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=app_environment(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"probe failed ({timed!r}): {done.stderr.strip()[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _pair(a: Callable[[], dict[str, Any]], pairs: int) -> tuple[Paired, Paired, list[Any]]:
    """Time and peak RSS of `a` against the bare import, paired; and every probe's report."""
    reports: list[Any] = []

    def one(probe: Callable[[], dict[str, Any]]) -> Callable[[], float]:
        def run() -> float:
            reports.append(probe())
            return float(reports[-1]["seconds"])

        return run

    seconds = paired(one(a), one(lambda: _run(_BARE)), pairs)
    hwm = Paired(
        tuple(r["hwm_mb"] for r in reports[0::2]), tuple(r["hwm_mb"] for r in reports[1::2])
    )
    return seconds, hwm, reports


def cold_start(pairs: int) -> list[Row]:
    """Figure 1: indexing and the first handled event, each paired against a bare import."""
    pairs = max(15, pairs)
    index, index_mb, index_runs = _pair(lambda: _run(_INDEX), pairs)
    event, event_mb, event_runs = _pair(lambda: _run(_EVENT, _SANDBOX), pairs)
    whole, _, _ = _pair(lambda: _run(_SANDBOX + _EVENT), max(5, pairs // 3))
    first = event_runs[0]
    sandbox_s = sorted(r["sandbox_seconds"] for r in event_runs[0::2])[pairs // 2]
    a_s = sorted(index.a)[pairs // 2]
    b_s = sorted(index.b)[pairs // 2]
    return [
        Row("1", "indexing: import function_app + get_functions() / import azure.functions",
            a_s, b_s, "s", "<= 1.15x", index.ratio <= 1.15,
            f"median of {pairs} paired ratios; modules {index_runs[0]['modules']} vs {index_runs[1]['modules']}",
            index.as_json(), paired_ratio=index.ratio),
        Row("1", "first handled event (sandbox started before the timer) / import azure.functions",
            sorted(event.a)[pairs // 2], sorted(event.b)[pairs // 2], "s", "<= 1.6x",
            event.ratio <= 1.6,
            f"median of {pairs} paired ratios; sandbox build {sandbox_s * 1000:.0f} ms untimed, "
            f"azure packages it preloaded: {', '.join(first['preloaded_azure'])}",
            event.as_json(), paired_ratio=event.ratio),
        Row("1", "first handled event, whole timeline (sandbox build included) / import azure.functions",
            sorted(whole.a)[len(whole.a) // 2], sorted(whole.b)[len(whole.b) // 2], "s",
            "reference", None, "upper bound: the sandbox's own import and build are not product cost",
            whole.as_json(), paired_ratio=whole.ratio),
        Row("1", "peak RSS (VmHWM) after indexing / import azure.functions",
            sorted(index_mb.a)[pairs // 2], sorted(index_mb.b)[pairs // 2], "MB", "reference", None,
            "read inside each probe", index_mb.as_json(), paired_ratio=index_mb.ratio),
        Row("1", "peak RSS (VmHWM) after the first handled event / import azure.functions",
            sorted(event_mb.a)[pairs // 2], sorted(event_mb.b)[pairs // 2], "MB", "reference", None,
            "read inside each probe; includes the embedded sandbox", event_mb.as_json(),
            paired_ratio=event_mb.ratio),
    ]  # fmt: skip
