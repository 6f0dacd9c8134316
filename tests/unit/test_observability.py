"""Structured log lines, counters, and OpenTelemetry only when Application Insights is configured."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from shared.domain.plans import ActionKind, Outcome, OutcomeStatus
from shared.observability import (
    CONNECTION_SETTING,
    METRICS,
    configure_telemetry,
    log_fields,
    record_reaction,
    resource_names,
)
from shared.services.results import Reaction, ReactionStatus
from tests.conftest import ROOT

SET = (
    "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/"
    "contosocache/credentialSets/dockerhub"
)
NOW = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clean_metrics() -> Iterator[None]:
    METRICS.reset()
    yield
    METRICS.reset()


def test_resource_names_finds_registry_and_child() -> None:
    assert resource_names(SET) == ("contosocache", "dockerhub")
    assert resource_names(SET.rsplit("/credentialSets", 1)[0]) == ("contosocache", None)
    assert resource_names("https://kv.vault.azure.net/secrets/x") == (None, None)


def test_log_fields_appends_key_values_and_sets_record_attributes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logger = logging.getLogger("tests.observability")
    with caplog.at_level(logging.INFO, logger="tests.observability"):
        log_fields(logger, "rotated", event_id="e-1", registry="contosocache", outcome=None,
                   note="two words")  # fmt: skip
    (record,) = caplog.records
    assert record.getMessage() == 'rotated event_id=e-1 registry=contosocache note="two words"'
    assert getattr(record, "cachekeeper.event_id") == "e-1"
    assert not hasattr(record, "cachekeeper.outcome")


def test_record_reaction_counts_the_event_and_its_actions_and_logs_each_resource(
    caplog: pytest.LogCaptureFixture,
) -> None:
    outcomes = (
        Outcome("e-1", SET, OutcomeStatus.SUCCEEDED, "moved", NOW, ActionKind.UPDATE_CREDENTIAL_SET),
        Outcome("e-1", "https://kv.vault.azure.net/secrets/x", OutcomeStatus.SUCCEEDED, "closing", NOW),
    )  # fmt: skip
    reaction = Reaction(ReactionStatus.APPLIED, "1 credential set(s) updated", outcomes=outcomes)
    logger = logging.getLogger("tests.observability")
    with caplog.at_level(logging.INFO, logger="tests.observability"):
        record_reaction(logger, event_type="Microsoft.KeyVault.SecretNewVersionCreated",
                        event_id="e-1", reaction=reaction)  # fmt: skip
        record_reaction(logger, event_type="Microsoft.KeyVault.SecretNewVersionCreated",
                        event_id="e-2", reaction=Reaction(ReactionStatus.DUPLICATE, "seen"))  # fmt: skip
    snapshot = METRICS.snapshot()
    assert snapshot["events"] == [
        {"type": "Microsoft.KeyVault.SecretNewVersionCreated", "outcome": "applied", "count": 1},
        {"type": "Microsoft.KeyVault.SecretNewVersionCreated", "outcome": "duplicate", "count": 1},
    ]
    assert snapshot["actionsApplied"] == [
        {"action": "update-credential-set", "status": "succeeded", "count": 1}
    ]
    lines = [r.getMessage() for r in caplog.records]
    assert "registry=contosocache credential_set=dockerhub" in lines[0]
    assert "outcome=succeeded" in lines[0]
    assert lines[1].endswith(
        "event_id=e-2 event_type=Microsoft.KeyVault.SecretNewVersionCreated outcome=duplicate"
    )


def test_open_findings_are_replaced_not_added() -> None:
    METRICS.set_open_findings({"error": 3, "warning": 1})
    METRICS.set_open_findings({"error": 1})
    assert METRICS.snapshot()["openFindings"] == {"error": 1}


def test_telemetry_is_off_and_imports_nothing_without_a_connection_string() -> None:
    assert configure_telemetry({}) is False
    assert configure_telemetry({CONNECTION_SETTING: "  "}) is False


def _probe(env: dict[str, str], code: str) -> list[str]:
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                            text=True, check=True, timeout=120)  # fmt: skip
    loaded: list[str] = json.loads(result.stdout.strip().splitlines()[-1])
    return loaded


_LOADED = (
    "import json, sys; import function_app; print(json.dumps(sorted(m for m in sys.modules "
    "if m.startswith(('opentelemetry', 'azure.monitor')))))"
)


def test_importing_function_app_loads_no_telemetry_sdk_when_it_is_off() -> None:
    env = {k: v for k, v in os.environ.items() if k != CONNECTION_SETTING}
    assert _probe(env, _LOADED) == []


def test_a_connection_string_turns_telemetry_on_and_counters_reach_opentelemetry() -> None:
    # a local port nobody listens on: the exporter may try, and fail, without leaving the machine
    connection = (
        "InstrumentationKey=00000000-0000-0000-0000-000000000000;"
        "IngestionEndpoint=http://127.0.0.1:9/;LiveEndpoint=http://127.0.0.1:9/"
    )
    env = {**os.environ, CONNECTION_SETTING: connection}
    code = (
        "import json, sys, shared.observability as o; import function_app; "
        "o.METRICS.count_event('t', 'applied'); "
        "print(json.dumps([o._otel is not None, 'azure.monitor.opentelemetry' in sys.modules]))"
    )
    assert _probe(env, code) == [True, True]


def test_a_malformed_connection_string_names_the_setting() -> None:
    env = {**os.environ, CONNECTION_SETTING: "not a connection string"}
    code = (
        "import json\nfrom shared.errors import ConfigurationError\n"
        "from shared.observability import configure_telemetry\n"
        "try:\n    configure_telemetry()\n    print(json.dumps(['no error']))\n"
        "except ConfigurationError as e:\n    print(json.dumps([e.setting]))\n"
    )
    assert _probe(env, code) == [CONNECTION_SETTING]
