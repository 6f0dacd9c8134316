"""cachekeeper's own events: queued in the journal's outbox with the record they announce, and
published to the event topic after the reaction (and by the outbox timer, for what is left).

`announce` runs before the journal record it stands for (records.py), so a crash between the two
leaves a queued event about a change that did happen, never a change without its event; the
event id is derived from the record (shared/domain/product_events.py), so queueing it again is a
no-op. `publish_pending` never raises: a topic that refuses or cannot be reached leaves the
events queued for the next drain, so the reaction is never failed by publishing and no event is
lost. Publishing is off (nothing is queued) when EVENTS_TOPIC_ENDPOINT is unset.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from shared.domain.product_events import MAX_EVENT_BYTES, ProductEvent, batches
from shared.errors import CachekeeperError, PolicyViolationError
from shared.services.context import Context

__all__ = ["DRAIN_LIMIT", "announce", "publish_pending"]

log = logging.getLogger(__name__)
DRAIN_LIMIT = 500  # events read from the outbox per drain; the timer takes the rest


def announce(ctx: Context, events: Iterable[ProductEvent | None]) -> None:
    """Queue the events (None entries are skipped) when publishing is on. A journal error
    propagates like any other journal write: the reaction is retried and queues them again."""
    if ctx.events is None:
        return
    for event in events:
        if event is not None:
            ctx.journal.enqueue_event(event)


def publish_pending(ctx: Context, *, limit: int = DRAIN_LIMIT) -> int:
    """Publish what the outbox holds, oldest first, in batches of at most 1 MB; returns how many
    the topic accepted. Never raises."""
    if ctx.events is None:
        return 0
    try:
        queued = ctx.journal.queued_events(limit=limit)
        return _publish(ctx, queued)
    except CachekeeperError as error:
        log.warning("events left in the outbox for the next drain: %s", error)
    except Exception:  # publishing must never fail the reaction it follows
        log.exception("events left in the outbox for the next drain")
    return 0


def _publish(ctx: Context, queued: list[ProductEvent]) -> int:
    assert ctx.events is not None
    for event in queued:
        if event.size > MAX_EVENT_BYTES:  # Event Grid would refuse it forever
            log.error("dropping event %s (%s): %d bytes is above Event Grid's 1 MB limit",
                      event.id, event.type, event.size)  # fmt: skip
            ctx.journal.dequeue_event(event.id)
    sent = 0
    for batch in batches(queued):
        try:
            ctx.events.publish(batch)
        except PolicyViolationError as error:
            if len(batch) > 1:
                sent += sum(_publish(ctx, [event]) for event in batch)
                continue
            # the topic refuses this one event as malformed: acknowledged, never retried forever
            log.error(
                "the event topic refused event %s (%s): %s", batch[0].id, batch[0].type, error
            )
            ctx.journal.dequeue_event(batch[0].id)
            continue
        for event in batch:
            ctx.journal.dequeue_event(event.id)
        sent += len(batch)
    if sent:
        log.info("published %d event(s)", sent)
    return sent
