"""Faults between the product's SDK clients and the sandbox, on the client's side of the wire.

`Interposer` stands where the network is: it hands each request to the sandbox and can then
lose the answer (the write landed, the client sees a read timeout, as a connection dropped after
the request was sent) or hold the answer while the world moves on (the sandbox clock advances
and other workers run before this worker hears back: a write that stalls past its lease). It
reaches the product only through azure-core's public `transport=` option, so the SDK's own
retry policy sees the loss exactly as it would see a real one.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from sandbox import Sandbox
from sandbox.errors import SimulatedTimeoutError
from sandbox.transport import SandboxTransport
from sandbox.wire import Request, Response
from shared.adapters.azure import (
    AzureAccess,
    AzureClients,
    AzureMonitor,
    AzureRegistry,
    KeyVaultSecrets,
)
from shared.ports import Journal, PolicyStore
from shared.services import Context
from shared.settings import Settings
from tests.soak.wiring import demo_policies

__all__ = ["Interposer", "Stall", "interposed_context"]

LOSABLE = frozenset({"PUT", "PATCH"})


@dataclass
class Stall:
    """Hold the answer of the next write whose path contains `path` (case-insensitive) and run
    `meanwhile` first: the write has landed, its worker has not heard back yet."""

    path: str
    meanwhile: Callable[[], None]
    done: bool = False


@dataclass
class Interposer:
    """The wire to `sandbox`: answers it, or loses a seeded fraction of successful writes'
    answers (`lost_rate`), or stalls one write's answer (`stall`)."""

    sandbox: Sandbox
    lost_rate: float = 0.0
    seed: int = 0
    stall: Stall | None = None
    lost: list[str] = field(default_factory=list)
    stalled: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self._lock = threading.Lock()

    def handle(self, request: Request) -> Response:
        response = self.sandbox.handle(request)
        if request.method not in LOSABLE or response.status >= 300:
            return response
        stall = self.stall
        with self._lock:
            hold = stall is not None and not stall.done and stall.path in request.path.lower()
            if hold and stall is not None:
                stall.done = True
            lose = not hold and self.lost_rate > 0 and self._random.random() < self.lost_rate
        if hold and stall is not None:
            self.stalled.append(f"{request.method} {request.path}")
            stall.meanwhile()
        if lose:
            self.lost.append(f"{request.method} {request.path}")
            raise SimulatedTimeoutError(f"{request.method} {request.path}: the answer was lost")
        return response


def interposed_context(
    interposer: Interposer,
    *,
    settings: Settings,
    journal: Journal,
    policies: PolicyStore | None = None,
) -> Context:
    """The product's Context whose SDK clients reach the sandbox through `interposer`, with
    instant back-off (as `tests.soak.wiring.fast_context`)."""
    sandbox = interposer.sandbox
    clients = AzureClients(
        sandbox.credential(), transport=SandboxTransport(interposer, sleep_scale=0)
    )
    return Context(
        settings=settings,
        registry=AzureRegistry(clients),
        secrets=KeyVaultSecrets(clients),
        access=AzureAccess(clients),
        policies=policies or demo_policies(sandbox),
        journal=journal,
        clock=sandbox.clock,
        monitor=AzureMonitor(clients),
    )
