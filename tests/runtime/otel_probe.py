"""One worker with Application Insights configured, in its own process (the exporter is process
state): `python -m tests.runtime.otel_probe` runs one audit over HTTP and prints, as JSON, what the
host received of its `audit finished` record, which log handlers export, and the worker's
capabilities. tests/runtime/test_runtime_telemetry.py runs it under each telemetry setting."""

from __future__ import annotations

import json
import logging
import os

from tests.conftest import _example_settings
from tests.runtime.rpc_codegen import generate

for _name in ("STORAGE_CONNECTION", "AZURE_CLIENT_ID"):
    os.environ.pop(_name, None)
# the example settings, with the telemetry settings the test gave this process
given = {k: v for k, v in os.environ.items() if "TELEMETRY" in k or "APPLICATIONINSIGHTS" in k}
os.environ.update({**_example_settings(), **given})
generate()


def count_exporter_setups() -> list[str]:
    """Who called the distro's configure_azure_monitor (the worker and the app both import it
    from its module at the time of the call, so wrapping the module attribute sees both)."""
    import azure.monitor.opentelemetry as distro

    callers: list[str] = []
    original = distro.configure_azure_monitor

    def counted(**kwargs: object) -> None:
        import inspect

        callers.append(inspect.stack()[1].frame.f_globals.get("__name__", "?"))
        original(**kwargs)

    distro.configure_azure_monitor = counted
    return callers


def main() -> None:
    from sandbox.wiring import wire_sandbox_mode
    from tests.runtime.host import FunctionsHost

    setups = count_exporter_setups()

    host = FunctionsHost()
    host.start()
    wire_sandbox_mode()
    try:
        reply = host.http("POST", "/api/audit", json_body={})
        (invocation_id,) = [i for n, i in host.invocations if n == "run_audit"]
        finished = [
            log for log in host.logs.received
            if log.rpc.message.startswith("audit finished")
        ]  # fmt: skip
        exporting = [
            type(h).__module__ + "." + type(h).__name__
            for h in logging.getLogger().handlers
            if type(h).__module__.startswith("opentelemetry")
        ]
        print(json.dumps({
            "status": reply.status,
            "finished": [(log.rpc.invocation_id == invocation_id) for log in finished],
            "trace_ids": sorted({log.trace_id for log in finished}),
            "sent_trace_id": host.trace_parents[invocation_id].split("-")[1],
            "exporting_handlers": exporting,
            "capabilities": host.capabilities,
            "exporter_configured_by": setups,
        }))  # fmt: skip
    finally:
        host.stop()


if __name__ == "__main__":
    main()
