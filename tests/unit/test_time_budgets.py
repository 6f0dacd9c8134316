"""The time budgets hold together: a write's attempts fit well inside the lease, the function
timeout and the CLI's deadline are the run timeout, and a signal claim outlives any run."""

from __future__ import annotations

import json
import signal
import threading
from datetime import timedelta
from pathlib import Path

import pytest

from cli.deadline import deadline
from shared.domain import time_budgets as budgets
from shared.services.leases import ATTEMPT_BUDGET, LEASE_TTL
from shared.services.once import IN_PROGRESS_TTL

ROOT = Path(__file__).resolve().parents[2]


def test_every_sdk_call_with_its_retries_fits_twice_into_the_lease() -> None:
    assert budgets.backoff_total(3) == 0.0 + 1.0 + 2.0  # azure-core: none, then factor * 2 ** n
    assert timedelta(seconds=4 * (5 + 30) + 3) == budgets.CALL_BUDGET
    assert 2 * budgets.CALL_BUDGET < LEASE_TTL
    assert ATTEMPT_BUDGET < budgets.CALL_BUDGET


def test_the_function_timeout_is_the_run_timeout_and_a_claim_outlives_it() -> None:
    host = json.loads((ROOT / "host.json").read_text(encoding="utf-8"))
    hours, minutes, seconds = (int(part) for part in host["functionTimeout"].split(":"))
    assert timedelta(hours=hours, minutes=minutes, seconds=seconds) == budgets.RUN_TIMEOUT
    assert budgets.RUN_TIMEOUT < IN_PROGRESS_TTL


def test_the_cli_deadline_stops_a_command_that_runs_past_it() -> None:
    stuck = threading.Event()  # a command waiting on something that never comes
    with pytest.raises(SystemExit, match="deadline"), deadline(timedelta(seconds=1)):
        stuck.wait(30)
    assert signal.getsignal(signal.SIGALRM) is not None
    assert signal.alarm(0) == 0  # nothing left armed after the command
