"""A credential-set write that stalls past its lease: the PATCH lands, its answer is held while
the sandbox clock moves beyond the lease's TTL and a second worker rotates the same secret again
and moves the set forward; then the first worker hears back and carries on. The later worker
must win, nothing may move back, and each event gets exactly one outcome, as in a fault-free run
of the same events; redeliveries of both events change nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sandbox import Sandbox
from shared.adapters.memory import MemoryJournal
from shared.services import Context, ReactionStatus
from shared.services.leases import LEASE_TTL
from shared.services.reactions import react
from shared.signals import KEY_VAULT
from tests.integration.app_context import demo_settings
from tests.soak.checks import current_refs, downgrades, normalized_state, terminal_counts
from tests.soak.interpose import Interposer, Stall, interposed_context
from tests.soak.run import new_sandbox
from tests.soak.wiring import fast_context

VAULT = "kv-cache-policies"
SECRET = "ghcr-password"
STALL = LEASE_TTL + timedelta(minutes=1)


def password(sandbox: Sandbox) -> str:
    return sandbox.credential_set("contosocache", "ghcr-acme").credentials[0].password_uri


def rotate_twice(stalled: bool) -> tuple[Sandbox, MemoryJournal, list[str], list[dict[str, Any]]]:
    """Two rotations of one secret handled by two workers; with `stalled`, the first worker's
    PATCH answer is held until the second worker is done. (sandbox, journal, stalls, events)"""
    sandbox = new_sandbox(7)
    journal = MemoryJournal()
    later = fast_context(sandbox, journal=journal)
    events: list[dict[str, Any]] = []

    def meanwhile() -> None:
        sandbox.clock.advance(STALL.total_seconds())
        events.append(sandbox.add_secret_version(VAULT, SECRET)["cloudEvent"])
        assert react(KEY_VAULT, events[1], later).status is ReactionStatus.APPLIED

    wire = Interposer(sandbox, stall=Stall("/credentialsets/", meanwhile) if stalled else None)
    first: Context = interposed_context(wire, settings=demo_settings(), journal=journal)
    events.append(sandbox.add_secret_version(VAULT, SECRET)["eventGrid"])
    react(KEY_VAULT, events[0], first)
    if not stalled:
        meanwhile()
    for event, ctx in ((events[0], first), (events[1], later), (events[0], later)):
        assert react(KEY_VAULT, event, ctx).status is ReactionStatus.DUPLICATE
    return sandbox, journal, wire.stalled, events


def test_a_write_whose_answer_stalls_past_its_lease_lets_the_later_worker_win() -> None:
    reference, reference_journal, _, reference_events = rotate_twice(stalled=False)
    initial = current_refs(new_sandbox(7))
    sandbox, journal, stalls, events = rotate_twice(stalled=True)
    print(
        f"\n[stalled write] events {len(events)}, faults injected {len(stalls)} (stalled answer "
        f"{STALL.total_seconds():.0f} s on the sandbox clock), downgrades "
        f"{len(downgrades(sandbox, initial))}, outcomes {dict(terminal_counts(journal.outcome_log))}"
    )
    assert len(stalls) == 1  # the first worker's PATCH really stalled past its lease
    newest = sandbox.secret_version(VAULT, SECRET).version
    assert password(sandbox).endswith(newest)  # the later worker won
    assert downgrades(sandbox, initial) == []
    assert terminal_counts(journal.outcome_log) == {e["id"]: 1 for e in events}
    assert terminal_counts(reference_journal.outcome_log) == {e["id"]: 1 for e in reference_events}
    assert normalized_state(sandbox) == normalized_state(reference)


def test_a_stalled_worker_returning_late_does_not_let_a_third_worker_in() -> None:
    """A's answer stalls past its lease; B takes the lease and its own answer stalls; A hears
    back and finishes (releasing what it thinks is its lease) while B is still inside; C then
    rotates again. C must not write while B holds the lease, and the end is C's version, with
    nothing moved back and one outcome per event."""
    sandbox = new_sandbox(7)
    journal = MemoryJournal()
    initial = current_refs(sandbox)
    a_stalled, b_inside, c_tried = threading.Event(), threading.Event(), threading.Event()

    def a_waits() -> None:
        sandbox.clock.advance(STALL.total_seconds())
        a_stalled.set()
        assert b_inside.wait(30)

    def b_waits() -> None:
        b_inside.set()
        assert c_tried.wait(30)

    def worker(stall: Callable[[], None]) -> tuple[Interposer, Context]:
        wire = Interposer(sandbox, stall=Stall("/credentialsets/", stall))
        return wire, interposed_context(wire, settings=demo_settings(), journal=journal)

    (a_wire, a), (b_wire, b) = worker(a_waits), worker(b_waits)
    c = fast_context(sandbox, journal=journal)
    results: dict[str, Any] = {}

    def run(name: str, event: dict[str, Any], ctx: Context) -> None:
        try:
            results[name] = react(KEY_VAULT, event, ctx).status
        except Exception as error:  # collected and asserted below
            results[name] = error

    events = [sandbox.add_secret_version(VAULT, SECRET)["eventGrid"]]
    a_thread = threading.Thread(target=run, args=("a", events[0], a))
    a_thread.start()
    assert a_stalled.wait(30)
    events.append(sandbox.add_secret_version(VAULT, SECRET)["cloudEvent"])
    b_thread = threading.Thread(target=run, args=("b", events[1], b))
    b_thread.start()
    a_thread.join(30)  # A heard back and finished while B is inside
    sandbox.clock.advance(5)
    events.append(sandbox.add_secret_version(VAULT, SECRET)["eventGrid"])
    patches = len(sandbox.log.writes("/credentialSets/"))
    run("c", events[2], c)
    c_wrote_while_b_inside = len(sandbox.log.writes("/credentialSets/")) - patches
    c_tried.set()
    b_thread.join(30)
    for _ in range(5):  # Event Grid redelivers whatever had to wait or was refused
        sandbox.clock.advance(30)
        for name, event, ctx in (("a", events[0], a), ("b", events[1], b), ("c", events[2], c)):
            if not isinstance(results[name], ReactionStatus):
                run(name, event, ctx)
    print(
        f"\n[stalled write, three workers] events {len(events)}, faults injected "
        f"{len(a_wire.stalled) + len(b_wire.stalled)}, writes by C while B was inside "
        f"{c_wrote_while_b_inside}, downgrades {len(downgrades(sandbox, initial))}, outcomes "
        f"{sorted(terminal_counts(journal.outcome_log).values())}"
    )
    assert len(a_wire.stalled) == len(b_wire.stalled) == 1
    assert all(isinstance(status, ReactionStatus) for status in results.values()), results
    assert c_wrote_while_b_inside == 0  # the lease kept C out while B was inside
    assert password(sandbox).endswith(events[2]["data"]["Id"].rsplit("/", 1)[-1])
    assert downgrades(sandbox, initial) == []
    assert terminal_counts(journal.outcome_log) == {e["id"]: 1 for e in events}
