"""scripts/publish-pull-failed.py, the documented reliable path for pull failures: the event it
builds is valid against docs/events/cachekeeper.PullFailed.schema.json, it authenticates with the
topic key or an Entra token, and the event it posts is what cachekeeper's PullFailed trigger
diagnoses (here over the sandbox)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from sandbox import Sandbox
from shared.adapters.memory import MemoryJournal
from shared.services import ReactionStatus
from shared.services.reactions import react
from shared.signals import PULL_FAILURES
from shared.signals.envelope import Envelope
from shared.signals.pull_failures import parse_pull_failed
from tests.integration.app_context import REGISTRIES, demo_settings, sandbox_context

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "publish-pull-failed.py"
SCHEMA = json.loads((ROOT / "docs" / "events" / "cachekeeper.PullFailed.schema.json").read_text())
ARGS = ["--registry", REGISTRIES["contosocache"], "--repository", "quay/prometheus/prometheus",
        "--status", "401", "--tag", "v2.53.0", "--source", "//ci.example/job/42"]  # fmt: skip
SECRET_ENV = ("CACHEKEEPER_TOPIC_KEY", "CACHEKEEPER_EVENTS_TOKEN", "CACHEKEEPER_EVENTS_ENDPOINT")


def run(
    *args: str, env: dict[str, str] | None = None, isolated: bool = False
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in SECRET_ENV}
    command = [sys.executable, *(["-S"] if isolated else []), str(SCRIPT), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, env=clean | (env or {}), check=False)  # fmt: skip


@pytest.mark.parametrize("isolated", [False, True], ids=["jsonschema", "schema-patterns-only"])
def test_a_dry_run_prints_a_valid_event_the_product_parses(isolated: bool) -> None:
    done = run(*ARGS, "--dry-run", isolated=isolated)  # -S: no site-packages, so no jsonschema
    assert done.returncode == 0, done.stderr
    event = json.loads(done.stdout)
    jsonschema.Draft202012Validator(SCHEMA).validate(event)
    failure = parse_pull_failed(Envelope.from_dict(event))
    assert str(failure.registry).lower() == REGISTRIES["contosocache"].lower()
    assert (str(failure.repository), failure.status, failure.tag) == (
        "quay/prometheus/prometheus",
        401,
        "v2.53.0",
    )
    assert (
        event["source"] == "//ci.example/job/42"
        and event["subject"] == "quay/prometheus/prometheus"
    )


@pytest.mark.parametrize("isolated", [False, True], ids=["jsonschema", "schema-patterns-only"])
@pytest.mark.parametrize(
    "change",
    [
        ["--repository", "Not A Repo!"],
        ["--registry", "/subscriptions/x/resourceGroups/y"],
        ["--status", "42"],
    ],
    ids=["repository", "registry", "status"],
)
def test_an_invalid_event_is_refused_before_anything_is_sent(
    change: list[str], isolated: bool
) -> None:
    args = list(ARGS)
    index = args.index(change[0])
    args[index + 1] = change[1]
    done = run(*args, "--dry-run", isolated=isolated)
    assert (done.returncode, done.stdout) == (2, "")
    assert "not a valid cachekeeper.PullFailed event" in done.stderr


class _Topic(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]] = []
    answer = 200

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(self.answer)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"error": {"code": "Unauthorized"}}' if self.answer >= 400 else b"")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def topic() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Topic)
    _Topic.received = []
    _Topic.answer = 200
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/events"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("env", "header", "value"),
    [({"CACHEKEEPER_TOPIC_KEY": "k3y"}, "aeg-sas-key", "k3y"),
     ({"CACHEKEEPER_EVENTS_TOKEN": "t0ken"}, "authorization", "Bearer t0ken")],
    ids=["topic-key", "entra-token"],
)  # fmt: skip
def test_the_event_is_posted_as_a_cloudevent_and_cachekeeper_diagnoses_it(
    topic: str, sandbox: Sandbox, env: dict[str, str], header: str, value: str
) -> None:
    done = run(*ARGS, "--endpoint", topic, env=env)
    assert done.returncode == 0, done.stderr
    secret = value.removeprefix("Bearer ")
    assert secret not in done.stdout + done.stderr  # the credential is never printed
    ((headers, body),) = _Topic.received
    assert headers[header] == value
    assert headers["content-type"] == "application/cloudevents+json; charset=utf-8"
    event = json.loads(body)
    # what the custom topic delivers to on_pull_failure: the same CloudEvent
    ctx = sandbox_context(sandbox, settings=demo_settings(), journal=MemoryJournal())
    reaction = react(PULL_FAILURES, event, ctx)
    assert reaction.status is ReactionStatus.REPORTED  # quay-io's identity cannot read its secrets
    assert sandbox.log.writes() == []
    assert react(PULL_FAILURES, event, ctx).status is ReactionStatus.DUPLICATE  # retried: same id


def test_a_refusal_by_the_topic_exits_1_and_says_what_it_answered(topic: str) -> None:
    _Topic.answer = 401
    done = run(*ARGS, "--endpoint", topic, env={"CACHEKEEPER_TOPIC_KEY": "k3y"})
    assert done.returncode == 1
    assert "401" in done.stderr and "k3y" not in done.stderr + done.stdout


def test_without_an_https_endpoint_nothing_is_sent() -> None:
    done = run(*ARGS, env={"CACHEKEEPER_TOPIC_KEY": "k3y"})
    assert done.returncode == 2 and "CACHEKEEPER_EVENTS_ENDPOINT" in done.stderr
    done = run(
        *ARGS, "--endpoint", "http://topic.example/api/events", env={"CACHEKEEPER_TOPIC_KEY": "k3y"}
    )
    assert done.returncode == 2 and "https" in done.stderr


@pytest.mark.parametrize("isolated", [False, True], ids=["jsonschema", "schema-patterns-only"])
def test_the_publisher_names_the_puller(isolated: bool) -> None:
    kubelet = "5b8e1c2a-7d3f-4e9a-b6c1-2f0a9d8e7c6b"
    done = run(*ARGS, "--identity", f"entra:{kubelet}", "--dry-run", isolated=isolated)
    assert done.returncode == 0, done.stderr
    event = json.loads(done.stdout)
    jsonschema.Draft202012Validator(SCHEMA).validate(event)
    puller = parse_pull_failed(Envelope.from_dict(event)).puller
    assert puller is not None and (puller.kind.value, puller.id) == ("entra", kubelet)
    bad = run(*ARGS, "--identity", "root:x", "--dry-run", isolated=isolated)
    assert bad.returncode != 0 and "identity" in bad.stderr
