"""Several workers handling the same deliveries at once.

Event Grid delivers at least once, and the Functions host scales out: the same event can reach
two instances at the same moment. `deliver_to_all` hands every event of a batch to each worker
(its own Context: its own SDK clients and journal client, over the one sandbox and journal),
on threads released together; each worker redelivers its own failures, and their figures are
summed into the run's.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from shared.services import Context

if TYPE_CHECKING:
    from tests.soak.run import Figures

__all__ = ["deliver_to_all"]

Deliver = Callable[[Context, list[dict[str, Any]], "Figures"], None]


def deliver_to_all(
    contexts: list[Context], events: list[dict[str, Any]], figures: Figures, deliver: Deliver
) -> None:
    """`deliver(ctx, events, figures)` for one worker; for several, each gets every event (in an
    order of its own) on a thread of its own."""
    if len(contexts) == 1:
        deliver(contexts[0], events, figures)
        return
    if not events:
        return
    parts = [
        type(figures)(f"{figures.label} worker {n}", late_retry=figures.late_retry)
        for n in range(len(contexts))
    ]
    barrier = threading.Barrier(len(contexts))
    order = random.Random(len(events) * 31 + len(figures.event_ids))

    def work(ctx: Context, mine: list[dict[str, Any]], part: Figures) -> None:
        barrier.wait()
        try:
            deliver(ctx, mine, part)
        except BaseException as error:  # collected: a worker must never die of an event
            part.unexpected_errors.append(f"worker died: {type(error).__name__}: {error}")

    threads = []
    for ctx, part in zip(contexts, parts, strict=True):
        mine = list(events)
        order.shuffle(mine)
        threads.append(threading.Thread(target=work, args=(ctx, mine, part)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for part in parts:
        figures.deliveries += part.deliveries
        figures.redeliveries += part.redeliveries
        figures.dead_lettered += part.dead_lettered
        figures.dead_letters.extend(part.dead_letters)
        figures.crashes += part.crashes
        figures.parked.extend(part.parked)
        figures.unexpected_errors.extend(part.unexpected_errors)
        figures.statuses.update(part.statuses)
        figures.outcome_ids |= part.outcome_ids
