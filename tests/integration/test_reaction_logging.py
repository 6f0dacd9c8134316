"""A reaction's logs at default settings: no Azure SDK request/response lines, and every record
carries the event id and the invocation id (the worker's `context`)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import azure.functions as func
import pytest

from devhost.app_index import InvocationContext
from sandbox import Sandbox
from shared import bootstrap
from shared.log_context import AZURE_LOG_LEVEL_SETTING, AZURE_LOGGERS, configure_logging
from tests.function_index import indexed_functions
from tests.integration.app_context import demo_settings, sandbox_context


@pytest.fixture(autouse=True)
def wired(sandbox: Sandbox) -> Iterator[None]:
    bootstrap.configure(context=sandbox_context(sandbox, settings=demo_settings()))
    yield
    bootstrap.reset()
    configure_logging({})  # back to the default for the tests that follow


def rotate_by_event(sandbox: Sandbox, invocation_id: str) -> str:
    rotated = sandbox.add_secret_version("kv-cache-rbac", "dockerhub-password")
    e = rotated["eventGrid"]
    event = func.EventGridEvent(
        id=e["id"], data=e["data"], topic=e["topic"], subject=e["subject"],
        event_type=e["eventType"], event_time=None, data_version=e["dataVersion"],
    )  # fmt: skip
    handler = indexed_functions()["on_keyvault_event"].get_user_function()
    handler(
        event, InvocationContext(function_name="on_keyvault_event", invocation_id=invocation_id)
    )
    return str(e["id"])


def test_a_reaction_at_default_settings_logs_no_azure_sdk_lines(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    configure_logging({})
    caplog.set_level(logging.INFO)  # the root logger at INFO, as the worker and devhost run
    writes_before = len(sandbox.log.writes())
    rotate_by_event(sandbox, "invocation-1")
    assert len(sandbox.log.writes()) > writes_before, "the reaction reached no SDK call"
    sdk = [r for r in caplog.records if r.name.split(".")[0] == "azure"]
    assert [(r.name, r.getMessage()[:80]) for r in sdk if r.levelno < logging.WARNING] == []


def test_a_setting_raises_the_azure_sdk_loggers(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    configure_logging({AZURE_LOG_LEVEL_SETTING: "info"})
    caplog.set_level(logging.INFO)
    rotate_by_event(sandbox, "invocation-2")
    names = {r.name for r in caplog.records if r.levelno == logging.INFO}
    assert "azure.core.pipeline.policies.http_logging_policy" in names
    assert {logging.getLogger(n).level for n in AZURE_LOGGERS} == {logging.INFO}


def test_every_record_of_a_reaction_carries_the_event_and_invocation_ids(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    configure_logging({})
    caplog.set_level(logging.DEBUG, logger="shared")
    caplog.set_level(logging.DEBUG, logger="functions")
    event_id = rotate_by_event(sandbox, "invocation-3")
    ours = [r for r in caplog.records if r.name.split(".")[0] in {"shared", "functions"}]
    assert ours, "the reaction logged nothing"
    assert {(getattr(r, "event_id", None), getattr(r, "invocation_id", None)) for r in ours} == {
        (event_id, "invocation-3")
    }
