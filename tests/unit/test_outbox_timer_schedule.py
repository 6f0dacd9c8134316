"""The outbox timer is scheduled as the Functions host schedules it, by the local host too: every
minute at second 30, half a minute after the verification timer, never on start-up."""

from __future__ import annotations

from datetime import UTC, datetime

import azure.functions as func

from devhost.app_index import index_app
from devhost.timers import plan_timers
from functions import audit
from shared.domain.product_events import OUTBOX_SCHEDULE
from shared.domain.verification import RECHECK_SCHEDULE


def test_the_local_host_runs_the_outbox_timer_every_minute_at_second_30() -> None:
    app = func.FunctionApp()
    app.register_functions(audit.bp)
    plans = {p.spec.name: p for p in plan_timers(index_app(app), {"AUDIT_SCHEDULE": "0 0 * * * *"})}
    outbox = plans["event_outbox_timer"]
    assert outbox.expression == OUTBOX_SCHEDULE
    assert not outbox.spec.run_on_startup
    start = datetime(2026, 12, 4, 20, 0, 5, tzinfo=UTC)
    first = outbox.schedule.next_after(start)
    assert first == datetime(2026, 12, 4, 20, 0, 30, tzinfo=UTC)
    assert outbox.schedule.next_after(first) == datetime(2026, 12, 4, 20, 1, 30, tzinfo=UTC)
    recheck = plans["verification_timer"]
    assert recheck.expression == RECHECK_SCHEDULE
    assert recheck.schedule.next_after(start) == datetime(2026, 12, 4, 20, 1, tzinfo=UTC)
