"""The audit pauses the cyclic garbage collector; overlapping pauses and errors restore it."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from shared.services.gc_pause import cyclic_gc_paused


@pytest.fixture(autouse=True)
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


def test_paused_inside_and_running_again_after() -> None:
    with cyclic_gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_an_error_inside_still_resumes_it() -> None:
    with pytest.raises(RuntimeError), cyclic_gc_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_overlapping_pauses_resume_only_when_the_last_ends() -> None:
    first_in, first_may_leave = threading.Event(), threading.Event()
    seen: list[bool] = []

    def first() -> None:
        with cyclic_gc_paused():
            first_in.set()
            first_may_leave.wait(5)
            seen.append(gc.isenabled())  # the second pause has ended: still paused

    thread = threading.Thread(target=first)
    thread.start()
    assert first_in.wait(5)
    with cyclic_gc_paused():
        pass
    assert not gc.isenabled()  # the first pause is still open
    first_may_leave.set()
    thread.join(5)
    assert seen == [False]
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    with cyclic_gc_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()
