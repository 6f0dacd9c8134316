"""Timer triggers: one scheduler thread per timer function, on its NCRONTAB schedule.

Schedules may name an app setting as `%NAME%`, resolved from the environment at start-up, like the
Functions host does. Runs of one function never overlap; occurrences missed while a run was still
going are skipped, and the next run is flagged past due.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from azure.functions.timer import TimerRequest

from devhost.app_index import FunctionSpec, run_logged
from shared.hosting.ncrontab import NCrontabSchedule, parse_ncrontab

__all__ = ["ScheduleError", "TimerPlan", "Timers", "plan_timers", "resolve_schedule"]

_PLACEHOLDER = re.compile(r"%([^%]*)%", re.ASCII)
_PAST_DUE_AFTER = timedelta(seconds=1)


class ScheduleError(ValueError):
    """A timer schedule cannot be resolved or parsed; start-up must stop."""


@dataclass(frozen=True, slots=True)
class TimerPlan:
    """A timer function with its resolved, parsed schedule."""

    spec: FunctionSpec
    expression: str
    schedule: NCrontabSchedule


def resolve_schedule(text: str, environ: Mapping[str, str]) -> str:
    """Replace each `%NAME%` in a schedule with that setting; raise ScheduleError if unset."""

    def setting(found: re.Match[str]) -> str:
        name = found.group(1)
        value = environ.get(name)
        if not name or value is None or not value.strip():
            raise ScheduleError(
                f"the schedule {text!r} names app setting {name!r}, which is not set"
            )
        # Only spaces are trimmed, which NCrontab ignores anyway: a tab or another kind of
        # space stays, and makes the schedule invalid as it does in the host.
        return value.strip(" ")

    return _PLACEHOLDER.sub(setting, text)


def plan_timers(specs: list[FunctionSpec], environ: Mapping[str, str]) -> list[TimerPlan]:
    """Resolve and parse every timer's schedule, or raise ScheduleError naming the function."""
    plans = []
    for spec in specs:
        if spec.kind != "timer" or spec.schedule is None:
            continue
        try:
            expression = resolve_schedule(spec.schedule, environ)
            plans.append(TimerPlan(spec, expression, parse_ncrontab(expression)))
        except ValueError as exc:
            raise ScheduleError(f"timer function {spec.name}: {exc}") from None
    return plans


class Timers:
    """The running scheduler threads; `stop()` ends them."""

    def __init__(self, plans: list[TimerPlan]) -> None:
        self._plans = plans
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start one daemon thread per timer."""
        for plan in self._plans:
            thread = threading.Thread(
                target=self._loop, args=(plan,), name=f"timer-{plan.spec.name}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 5.0) -> None:
        """Ask every timer thread to end and wait for runs in progress (up to `timeout` each)."""
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout)

    def _loop(self, plan: TimerPlan) -> None:
        if plan.spec.run_on_startup:
            _fire(plan, past_due=False, reason="run on startup")
        due = plan.schedule.next_after(datetime.now(UTC))
        while not self._stopping.wait(max(0.0, (due - datetime.now(UTC)).total_seconds())):
            now = datetime.now(UTC)
            if now < due:
                continue  # woke early (clock adjustments): wait the remainder
            _fire(
                plan, past_due=now - due > _PAST_DUE_AFTER, reason=f"Timer fired at {now:%H:%M:%S}"
            )
            due = plan.schedule.next_after(max(due, datetime.now(UTC)))


def _fire(plan: TimerPlan, *, past_due: bool, reason: str) -> None:
    run_logged(plan.spec, TimerRequest(past_due=past_due), reason)
