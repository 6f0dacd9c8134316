"""Two workers handling events for the same credential set at once converge.

The race: both workers observe the credential set before either writes. Worker A rotates the
username, worker B the password, of `contosocache/ghcr-acme` (both references are versioned). A
PATCH carries both identifiers, so without a lease and a compare-before-write the second PATCH
silently puts back the reference the first one moved (a lost update, and a downgrade).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sandbox import Sandbox
from shared.adapters.memory import MemoryJournal
from shared.domain.plans import OutcomeStatus
from shared.services import Context, ReactionStatus
from shared.services.reactions import react
from shared.services.results import Reaction
from shared.signals import KEY_VAULT
from tests.soak.checks import current_refs, downgrades
from tests.soak.wiring import fast_context

VAULT = "kv-cache-policies"


def run_together(work: list[Callable[[], Reaction]]) -> list[Reaction | BaseException]:
    """Run the callables on threads released at the same instant; results in input order."""
    barrier = threading.Barrier(len(work))
    results: list[Reaction | BaseException | None] = [None] * len(work)

    def run(index: int, job: Callable[[], Reaction]) -> None:
        barrier.wait()
        try:
            results[index] = job()
        except BaseException as error:  # collected and asserted by the test
            results[index] = error

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(work)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return [r for r in results if r is not None]


def deliver_until_handled(event: dict[str, Any], ctx: Context, attempts: int = 20) -> Reaction:
    """Redeliver on transient errors, as Event Grid would."""
    last: BaseException | None = None
    for _ in range(attempts):
        try:
            return react(KEY_VAULT, event, ctx)
        except Exception as error:
            last = error
    raise AssertionError(f"never handled: {last}")


def test_two_workers_rotating_both_secrets_of_one_set_lose_no_update(sandbox: Sandbox) -> None:
    journal = MemoryJournal()
    ctx = fast_context(sandbox, journal=journal)
    sandbox.log.clear()
    initial = current_refs(sandbox)
    # every ARM/KV call takes a little real time, so both workers observe before either writes
    sandbox.faults.latency(40)
    user = sandbox.add_secret_version(VAULT, "ghcr-username")
    password = sandbox.add_secret_version(VAULT, "ghcr-password")
    results = run_together(
        [
            lambda: deliver_until_handled(user["eventGrid"], ctx),
            lambda: deliver_until_handled(password["cloudEvent"], ctx),
        ]
    )
    assert all(isinstance(r, Reaction) for r in results), results
    current = sandbox.credential_set("contosocache", "ghcr-acme").credentials[0]
    assert current.username_uri.endswith(user["version"])
    assert current.password_uri.endswith(password["version"])
    assert downgrades(sandbox, initial) == []
    terminal = [o for o in journal.outcome_log if o.action is None]
    assert sorted(o.signal_id for o in terminal) == sorted(
        [user["eventGrid"]["id"], password["cloudEvent"]["id"]]
    )
    assert all(o.status is OutcomeStatus.SUCCEEDED for o in terminal)
    assert {r.status for r in results if isinstance(r, Reaction)} == {ReactionStatus.APPLIED}
