"""The re-check loop of a claim holder and the rule-budget arithmetic, over the in-memory journal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.adapters.memory import MemoryJournal
from shared.domain.ids import ResourceId
from shared.domain.pullers import Puller, PullerKind
from shared.domain.repositories import TargetPath
from shared.domain.rule_budget import Deferral, registry_window
from shared.errors import InvalidEventError
from shared.ports import PendingSignal
from shared.services.pending import MAX_RECHECKS, run_with_rechecks
from shared.services.results import Reaction, ReactionStatus
from shared.signals.pull_failures import PullFailure, dump_failure, load_failure
from tests.fakes import CONTOSO, NOW, make_world

KEY = "pull:set:1"
DONE = Reaction(ReactionStatus.REPORTED, "diagnosed")


def keep(journal: MemoryJournal, signal_id: str) -> None:
    journal.keep_pending(PendingSignal(KEY, signal_id, "{}", NOW))


def test_a_signal_kept_before_the_work_began_is_answered_by_it_without_a_recheck() -> None:
    world = make_world()
    keep(world.journal, "before")
    rechecked: list[str] = []
    answer = run_with_rechecks(
        world.ctx, KEY, lambda waiting: DONE, lambda p: rechecked.append(p.signal_id)
    )
    assert answer is DONE and rechecked == [] and world.journal.pending_signals() == []


def test_signals_kept_while_the_work_ran_are_rechecked_and_dropped() -> None:
    world = make_world()
    rechecked: list[str] = []

    def work(waiting: PendingSignal | None) -> Reaction:
        assert waiting is None
        keep(world.journal, "during-1")
        keep(world.journal, "during-2")  # the newest replaces the first: one re-check answers both
        return DONE

    def recheck(pending: PendingSignal) -> None:
        rechecked.append(pending.signal_id)
        if pending.signal_id == "during-2":
            keep(world.journal, "during-recheck")  # arrives while the re-check runs

    run_with_rechecks(world.ctx, KEY, work, recheck)
    assert rechecked == ["during-2", "during-recheck"]
    assert world.journal.pending_signals() == []


def test_the_rechecks_of_one_holder_are_bounded_and_the_rest_is_left_for_the_sweep() -> None:
    world = make_world()
    rechecked: list[str] = []

    def recheck(pending: PendingSignal) -> None:
        rechecked.append(pending.signal_id)
        keep(world.journal, f"more-{len(rechecked)}")  # a failure arrives during every re-check

    def work(waiting: PendingSignal | None) -> Reaction:
        keep(world.journal, "during")
        return DONE

    run_with_rechecks(world.ctx, KEY, work, recheck)
    assert len(rechecked) == MAX_RECHECKS
    assert [p.signal_id for p in world.journal.pending_signals()] == [f"more-{MAX_RECHECKS}"]


def test_a_kept_failure_reads_back_as_it_was() -> None:
    failure = PullFailure(
        CONTOSO, TargetPath.parse("quay/prometheus/prometheus"), 401, "v2",
        datetime(2026, 11, 23, 12, tzinfo=UTC), Puller(PullerKind.TOKEN, "ci-token"), "alert:a-1",
    )  # fmt: skip
    assert load_failure(dump_failure(failure)) == failure
    bare = PullFailure(ResourceId.parse(str(CONTOSO)), TargetPath.parse("x/y"), None)
    assert load_failure(dump_failure(bare)) == bare
    for text in ("not json", "[1]", '{"registry": "nope"}'):
        try:
            load_failure(text)
        except InvalidEventError:
            continue
        raise AssertionError(f"{text!r} was read")


def test_the_registry_budget_is_per_utc_hour_and_says_when_it_refills() -> None:
    at = datetime(2026, 11, 23, 12, 40, 30, tzinfo=UTC)
    key, refill = registry_window("/Subscriptions/S/.../registries/Contoso", at)
    assert refill == datetime(2026, 11, 23, 13, tzinfo=UTC)
    assert (
        key
        == registry_window("/subscriptions/s/.../registries/contoso", at + timedelta(minutes=19))[0]
    )
    assert key != registry_window("/subscriptions/s/.../registries/contoso", refill)[0]
    assert Deferral("spent", refill).retry_after(at) == 19 * 60 + 30
    assert Deferral("spent", refill).retry_after(refill + timedelta(seconds=5)) == 1
    assert Deferral("signal spent").retry_after(at) is None
