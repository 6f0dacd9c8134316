"""The queue trigger's options as the host reads them, and its polling back-off."""

from __future__ import annotations

import itertools
import random
from datetime import timedelta
from pathlib import Path

import pytest

from shared.hosting.queues import Backoff, QueueOptions, host_queue_options, parse_queue_options

ROOT = Path(__file__).resolve().parents[2]


def test_the_extensions_defaults_apply_when_host_json_says_nothing() -> None:
    assert parse_queue_options({}, {}) == QueueOptions()


def test_app_settings_override_host_json_case_insensitively() -> None:
    options = parse_queue_options(
        {"batchSize": 4, "visibilityTimeout": "00:00:30"},
        {"AzureFunctionsJobHost__extensions__queues__VisibilityTimeout": "00:00:00",
         "azurefunctionsjobhost__extensions__queues__maxDequeueCount": "2"},
    )  # fmt: skip
    assert options.batch_size == 4 and options.new_batch_threshold == 2
    assert options.visibility_timeout == timedelta(0) and options.max_dequeue_count == 2


def test_this_apps_host_json_is_read() -> None:
    options = host_queue_options(ROOT / "host.json", {})
    assert options.max_dequeue_count == 5 and options.visibility_timeout == timedelta(seconds=30)


@pytest.mark.parametrize(
    "section",
    [{"batchSize": 33}, {"batchSize": 0}, {"visibilityTimeout": "30s"}, {"messageEncoding": "utf8"},
     {"maxPollingInterval": "00:00:00.05"}, {"maxDequeueCount": 0}],
)  # fmt: skip
def test_values_the_host_refuses_are_refused(section: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="queues"):
        parse_queue_options(section, {})


def test_the_back_off_grows_exponentially_to_the_maximum_and_resets_on_messages() -> None:
    backoff = Backoff(timedelta(seconds=2), rng=random.Random(7))
    delays = [backoff.next_delay(found_messages=False) for _ in range(8)]
    assert delays[0] == timedelta(milliseconds=100)
    assert all(a <= b for a, b in itertools.pairwise(delays))
    assert delays[-1] == timedelta(seconds=2)
    assert timedelta(milliseconds=180) <= delays[1] <= timedelta(milliseconds=220)
    assert backoff.next_delay(found_messages=True) == timedelta(milliseconds=100)
