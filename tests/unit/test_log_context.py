"""Invocation scope on log records, in helper threads too; the Azure SDK loggers' level setting."""

from __future__ import annotations

import logging
import threading
from types import SimpleNamespace

import pytest

from shared.errors import ConfigurationError
from shared.host_trace import OPENTELEMETRY_SETTING
from shared.log_context import (
    AZURE_LOG_LEVEL_SETTING,
    AZURE_LOGGERS,
    configure_logging,
    function_invocation,
    invocation_scope,
    scope_fields,
)
from shared.services.context import fan_out

log = logging.getLogger("shared.tests.log_context")


def test_records_written_in_fan_out_threads_carry_the_scope(
    caplog: pytest.LogCaptureFixture,
) -> None:
    configure_logging({})
    caplog.set_level(logging.INFO, logger="shared.tests.log_context")
    started = threading.Barrier(3, timeout=10)  # three calls at once: three helper threads

    def work(item: int) -> str:
        started.wait()
        log.info("item %d", item)
        return threading.current_thread().name

    with invocation_scope(event_id="event-9", invocation_id="invocation-9"):
        threads = fan_out(work, [1, 2, 3])
    assert threading.current_thread().name not in threads
    records = [r for r in caplog.records if r.name == log.name]
    assert len(records) == 3
    assert {(r.event_id, r.invocation_id) for r in records} == {("event-9", "invocation-9")}  # type: ignore[attr-defined]
    assert scope_fields() == {}


def test_records_outside_an_invocation_carry_no_ids(caplog: pytest.LogCaptureFixture) -> None:
    configure_logging({})
    caplog.set_level(logging.INFO, logger="shared.tests.log_context")
    log.info("idle")
    (record,) = [r for r in caplog.records if r.name == log.name]
    assert not hasattr(record, "event_id")
    assert not hasattr(record, "invocation_id")


def test_the_azure_sdk_loggers_default_to_warning_and_a_setting_changes_them() -> None:
    configure_logging({AZURE_LOG_LEVEL_SETTING: "debug"})
    assert {logging.getLogger(n).level for n in AZURE_LOGGERS} == {logging.DEBUG}
    configure_logging({})
    assert {logging.getLogger(n).level for n in AZURE_LOGGERS} == {logging.WARNING}
    with pytest.raises(ConfigurationError, match=AZURE_LOG_LEVEL_SETTING):
        configure_logging({AZURE_LOG_LEVEL_SETTING: "loud"})


def _trace_id() -> str:
    from opentelemetry import trace

    return f"{trace.get_current_span().get_span_context().trace_id:032x}"


def test_an_invocation_continues_the_hosts_trace_in_helper_threads_when_opentelemetry_is_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent = "4bf92f3577b34da6a3ce929d0e0e4736"
    context = SimpleNamespace(
        invocation_id="invocation-t",
        trace_context=SimpleNamespace(
            trace_parent=f"00-{sent}-00f067aa0ba902b7-01", trace_state=""
        ),
    )
    monkeypatch.delenv(OPENTELEMETRY_SETTING, raising=False)
    with function_invocation(context):
        assert _trace_id() == "0" * 32
    monkeypatch.setenv(OPENTELEMETRY_SETTING, "true")
    with function_invocation(context):
        assert fan_out(lambda _: _trace_id(), [1, 2]) == [sent, sent]
        assert scope_fields() == {"invocation_id": "invocation-t"}
    assert _trace_id() == "0" * 32
