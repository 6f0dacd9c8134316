"""A timer tick runs in its invocation's log scope (`functions/_timers.py`), helper threads too."""

from __future__ import annotations

import logging

import azure.functions as func
import pytest
from azure.functions.timer import TimerRequest

from functions._timers import scheduled
from shared.log_context import configure_logging
from shared.services.context import fan_out
from tests.function_index import invocation

tick_log = logging.getLogger("functions.tests.tick")


def test_every_record_of_a_tick_carries_its_invocation_id(caplog: pytest.LogCaptureFixture) -> None:
    configure_logging({})
    bp = func.Blueprint()

    @scheduled(bp, "probe_timer", schedule="0 */5 * * * *")
    def probe_timer(timer: func.TimerRequest) -> None:
        """Probe."""
        tick_log.info("tick")
        fan_out(lambda n: tick_log.info("helper %d", n), [1, 2])

    app = func.FunctionApp()
    app.register_functions(bp)
    (function,) = app.get_functions()
    binding = function.get_trigger().get_dict_repr()
    assert (function.get_function_name(), binding["schedule"]) == ("probe_timer", "0 */5 * * * *")
    assert (binding["runOnStartup"], binding["useMonitor"]) == (False, True)
    caplog.set_level(logging.INFO, logger=tick_log.name)
    tick = function.get_user_function()
    tick(TimerRequest(past_due=False), invocation("probe_timer", "tick-1"))
    tick(TimerRequest(past_due=False), invocation("probe_timer", "tick-2"))
    ids = [getattr(r, "invocation_id", None) for r in caplog.records if r.name == tick_log.name]
    assert ids == ["tick-1"] * 3 + ["tick-2"] * 3
