"""Timer planning and firing in the local host, with plain functions as the user code."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from devhost.app_index import FunctionSpec
from devhost.timers import ScheduleError, Timers, plan_timers


def timer_spec(schedule: str, user_function: Any, *, run_on_startup: bool = False) -> FunctionSpec:
    return FunctionSpec(
        name="tick",
        kind="timer",
        trigger_type="timerTrigger",
        arg_name="timer",
        user_function=user_function,
        schedule=schedule,
        run_on_startup=run_on_startup,
    )


def test_plans_resolve_placeholders_and_skip_other_triggers() -> None:
    http = FunctionSpec("web", "http", "httpTrigger", "req", print, route="web")
    [plan] = plan_timers([http, timer_spec("%EVERY%", print)], {"EVERY": "*/5 * * * * *"})
    assert plan.expression == "*/5 * * * * *"
    assert plan.schedule.seconds == tuple(range(0, 60, 5))


def test_an_invalid_schedule_names_the_function() -> None:
    with pytest.raises(ScheduleError, match=r"timer function tick: .*6 fields"):
        plan_timers([timer_spec("0 * * * *", print)], {})


def test_run_on_startup_fires_at_once_then_waits_for_the_schedule() -> None:
    fired = threading.Event()
    calls: list[bool] = []

    def tick(timer: Any) -> None:
        calls.append(timer.past_due)
        fired.set()

    # Yearly: only run_on_startup can fire it during this test.
    timers = Timers(plan_timers([timer_spec("0 0 0 1 1 *", tick, run_on_startup=True)], {}))
    timers.start()
    try:
        assert fired.wait(5)
    finally:
        timers.stop(timeout=2)
    assert calls == [False]


def test_async_timer_functions_run_and_failures_do_not_stop_the_schedule() -> None:
    runs: list[int] = []
    enough = threading.Event()

    async def tick(timer: Any) -> None:
        runs.append(len(runs))
        if len(runs) >= 2:
            enough.set()
        raise RuntimeError("each run fails")

    timers = Timers(plan_timers([timer_spec("* * * * * *", tick)], {}))
    timers.start()
    try:
        assert enough.wait(5)
    finally:
        timers.stop(timeout=2)
    assert runs[:2] == [0, 1]
