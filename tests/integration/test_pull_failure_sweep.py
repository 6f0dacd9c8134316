"""Pull failures left pending are re-checked by the sweep (the verification timer, every audit):
when the worker diagnosing them died holding the claim (once the claim expired), and when one
arrived just as the diagnosis completed. The journal in memory and on Azurite.
"""

from __future__ import annotations

import dataclasses

from sandbox import Sandbox
from shared.domain.ids import ResourceId
from shared.domain.repositories import TargetPath
from shared.ports import Journal, PendingSignal
from shared.services import ReactionStatus
from shared.services.once import IN_PROGRESS_TTL
from shared.services.pull_failures import COALESCING_WINDOW, sweep_pending
from shared.services.reactions import react
from shared.signals import PULL_FAILURES
from shared.signals.pull_failures import PullFailure, dump_failure
from tests.integration.conftest_tables import (  # noqa: F401 - fixtures
    connection_string_fixture,
    service_fixture,
    table_fixture,
)
from tests.integration.test_pull_failure_bursts import (  # noqa: F401 - the journal fixture
    CONTOSO,
    QUAY,
    REPOSITORY,
    PausingRegistry,
    closing,
    in_thread,
    journal_fixture,
    pull_failed,
)
from tests.soak.crash import Crash, Worker, WorkerJournal
from tests.soak.wiring import fast_context


def test_a_failure_kept_for_a_worker_that_died_is_rechecked_by_the_sweep(
    sandbox: Sandbox, journal: Journal
) -> None:
    sandbox.clock.set(sandbox.clock.now())
    ctx = fast_context(sandbox, journal=journal)
    dead = Worker()
    pausing = PausingRegistry(ctx.registry, dead, die=True)
    holder = dataclasses.replace(ctx, journal=WorkerJournal(journal, dead), registry=pausing)
    thread, first = in_thread(lambda: react(PULL_FAILURES, pull_failed("pf-first"), holder))
    assert pausing.entered.wait(timeout=30)
    assert react(PULL_FAILURES, pull_failed("pf-during"), ctx).status is ReactionStatus.DUPLICATE
    pausing.go.set()
    thread.join(timeout=60)
    assert isinstance(first[0], Crash)  # died holding the claim: nothing was released
    assert [p.signal_id for p in journal.pending_signals()] == ["pf-during"]
    assert sweep_pending(ctx)[0].status is ReactionStatus.NO_CHANGE  # the claim is still held
    assert [p.signal_id for p in journal.pending_signals()] == ["pf-during"]
    assert closing(journal, "pf-during/recheck") == []
    sandbox.clock.advance(IN_PROGRESS_TTL.total_seconds())
    [swept] = sweep_pending(ctx)
    assert swept.status is ReactionStatus.REPORTED  # quay-io's identity cannot read its secrets
    assert len(closing(journal, "pf-during/recheck")) == 1
    assert journal.pending_signals() == []
    assert sweep_pending(ctx) == []  # nothing left


def test_a_failure_that_arrives_as_the_diagnosis_completes_is_rechecked_by_the_sweep(
    sandbox: Sandbox, journal: Journal
) -> None:
    """Its pending row is written just after the holder's last look: the window's claim is
    complete, so the sweep takes the window again for the re-check."""
    sandbox.clock.set(sandbox.clock.now())
    ctx = fast_context(sandbox, journal=journal)
    assert react(PULL_FAILURES, pull_failed("pf-first"), ctx).status is ReactionStatus.REPORTED
    bucket = int(sandbox.clock.now().timestamp() // COALESCING_WINDOW.total_seconds())
    window = f"pull:{str(QUAY).lower()}:{bucket}"
    late = PullFailure(ResourceId.parse(CONTOSO), TargetPath.parse(REPOSITORY), 401)
    journal.keep_pending(PendingSignal(window, "pf-late", dump_failure(late), sandbox.clock.now()))
    [swept] = sweep_pending(ctx)
    assert swept.status is ReactionStatus.REPORTED
    assert len(closing(journal, "pf-late/recheck")) == 1
    assert journal.pending_signals() == []
