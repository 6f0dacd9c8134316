"""The names and schedules the Functions host binds at indexing: the audit queues and the timers'
NCRONTAB schedules. Kept apart from the domain modules that use them, so that indexing the app
(which reads only these) does not import the planners."""

from __future__ import annotations

__all__ = ["AUDIT_QUEUE", "OUTBOX_SCHEDULE", "POISON_QUEUE", "RECHECK_SCHEDULE"]

# one message per registry of an audit fan-out; the host moves a message that keeps failing to
# `<queue>-poison` (the Functions queue trigger's convention)
AUDIT_QUEUE = "cachekeeper-audit"
POISON_QUEUE = f"{AUDIT_QUEUE}-poison"
# The verification timer's NCRONTAB schedule: every minute, on the minute (a finer grain than
# FIRST_RECHECK is pointless, since a timer run finds every check that fell due since the last)
RECHECK_SCHEDULE = "0 * * * * *"
# the outbox timer: every minute at second 30, half a minute after the verification timer's run
OUTBOX_SCHEDULE = "30 * * * * *"
