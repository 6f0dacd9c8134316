"""Application Insights under the real worker, in a process of its own per setting
(tests/runtime/otel_probe.py): the exporter is configured by exactly one owner, one `logging`
call reaches the host as exactly one RpcLog, and the function's trace id is the host's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.runtime.host import REPO_ROOT

# an unroutable ingestion endpoint: the exporter is configured, nothing leaves the machine
CONNECTION = (
    "InstrumentationKey=00000000-0000-4000-8000-000000000000;IngestionEndpoint=http://127.0.0.1:9/"
)


def probe(tmp_path: Path, **settings: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if "TELEMETRY" not in k}
    env.update(settings, APPLICATIONINSIGHTS_CONNECTION_STRING=CONNECTION,
               PYTHON_ENABLE_OPENTELEMETRY="true", TMPDIR=str(tmp_path))  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "tests.runtime.otel_probe"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


@pytest.mark.parametrize(
    ("worker_setting", "owner"),
    [("false", "shared.observability"), ("true", "azure_functions_runtime.otel")],
    ids=["the app configures the exporter", "the worker configures the exporter"],
)
def test_one_exporter_one_rpc_log_per_record_and_the_hosts_trace_id(
    tmp_path: Path, worker_setting: str, owner: str
) -> None:
    seen = probe(tmp_path, PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY=worker_setting)
    assert seen["status"] == 200
    assert seen["exporter_configured_by"] == [owner]
    assert len(seen["exporting_handlers"]) == 1, seen["exporting_handlers"]
    # one `audit finished` call: one RpcLog, attributed to the invocation
    assert seen["finished"] == [True]
    assert seen["trace_ids"] == [seen["sent_trace_id"]]
    assert seen["capabilities"].get("WorkerOpenTelemetryEnabled") == "true"
