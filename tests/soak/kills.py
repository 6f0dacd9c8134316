"""Workers killed in the middle of a reaction, at seeded points: right after one of its Azure
writes succeeded, before anything was recorded (a process killed between the ARM write and the
journal write). Hand-written wrappers around the real ports, as in `tests/soak/crash.py`: after
a death every call of the dead worker raises `Crash`, so no `finally` can release a claim or a
lease; the soak's redelivery loop then respawns the worker (a new instance, same wiring).
"""

from __future__ import annotations

import dataclasses
import random
from typing import Any

from shared.ports import Journal
from shared.services import Context
from tests.soak.crash import Worker, WorkerJournal

__all__ = ["KillAfterWrites", "killable"]

WRITES = frozenset(
    {
        "create_credential_set",
        "update_credential_set",
        "delete_credential_set",
        "create_cache_rule",
        "update_cache_rule",
        "delete_cache_rule",
        "grant",
    }
)


class KillAfterWrites:
    """A port (the registry or the access port) whose worker dies right after a write returned,
    for a seeded fraction `rate` of writes; `kills` names each."""

    def __init__(
        self, inner: Any, worker: Worker, *, rate: float, rng: random.Random, kills: list[str]
    ) -> None:
        self._inner = inner
        self._worker = worker
        self._rate = rate
        self._rng = rng
        self._kills = kills

    def __getattr__(self, name: str) -> Any:
        self._worker.check()
        attribute = getattr(self._inner, name)
        if name not in WRITES:
            return attribute

        def write(*args: Any, **kwargs: Any) -> Any:
            self._worker.check()
            result = attribute(*args, **kwargs)
            if self._rng.random() < self._rate:
                self._kills.append(name)
                self._worker.kill(f"after {name}")
            return result

        return write


def killable(
    ctx: Context, journal: Journal, *, rate: float, seed: int, kills: list[str]
) -> Context:
    """`ctx` as one worker that may die right after its writes, recording in `journal`."""
    worker = Worker()
    rng = random.Random(seed)
    return dataclasses.replace(
        ctx,
        registry=KillAfterWrites(ctx.registry, worker, rate=rate, rng=rng, kills=kills),
        access=KillAfterWrites(ctx.access, worker, rate=rate, rng=rng, kills=kills),
        journal=WorkerJournal(journal, worker),
    )
