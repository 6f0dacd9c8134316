#!/usr/bin/env python3
"""Publish a `cachekeeper.PullFailed` CloudEvent to cachekeeper's Event Grid custom topic.

The reliable way to tell cachekeeper a pull failed: run it wherever the failure is seen, in a CI
step after a failed `docker pull`, or from a cluster event forwarder on an `ErrImagePull` /
`ImagePullBackOff` event. Standard library only (Python 3.11+); the Azure CLI (`az`) only when an
Entra token is to be fetched.

    publish-pull-failed.py --registry /subscriptions/.../registries/contosocache \\
        --repository dockerhub/library/nginx --status 401 --tag 1.27 \\
        --endpoint https://<topic>.<region>-1.eventgrid.azure.net/api/events

Authentication, first that applies:
  * `CACHEKEEPER_TOPIC_KEY` set: the topic's access key, sent as `aeg-sas-key` (cachekeeper's
    own topic has local auth disabled, so only other topics take it);
  * `CACHEKEEPER_EVENTS_TOKEN` set: an Entra access token for https://eventgrid.azure.net;
  * otherwise `az account get-access-token --resource https://eventgrid.azure.net`.
  The caller needs `EventGrid Data Sender` on the topic (`CACHEKEEPER_EVENT_PUBLISHERS` at
  deployment). The key and the token are never printed.

`--dry-run` prints the event instead of sending it. The event is checked against
docs/events/cachekeeper.PullFailed.schema.json before anything is sent (with `jsonschema` when
it is installed, else the schema's own patterns). Exit codes: 0 sent (or printed), 1 the topic
refused it or could not be reached, 2 bad arguments.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

EVENT_TYPE = "cachekeeper.PullFailed"
SCHEMA = Path(__file__).resolve().parent.parent / "docs" / "events" / f"{EVENT_TYPE}.schema.json"
EVENT_GRID_RESOURCE = "https://eventgrid.azure.net"
CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"


class BadEventError(ValueError):
    """The event would not be valid."""


def build_event(args: argparse.Namespace, now: datetime) -> dict[str, Any]:
    data: dict[str, Any] = {"registry": args.registry, "repository": args.repository.lower()}
    if args.status is not None:
        data["status"] = args.status
    if args.tag:
        data["tag"] = args.tag
    if args.time:
        data["time"] = args.time
    if args.identity:
        kind, _, ident = args.identity.partition(":")
        data["identity"] = {"kind": kind.strip(), "id": ident.strip()}
    return {
        "specversion": "1.0",
        "id": args.id or str(uuid.uuid4()),
        "source": args.source or f"//{socket.gethostname()}/publish-pull-failed",
        "type": EVENT_TYPE,
        "subject": data["repository"],
        "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "datacontenttype": "application/json",
        "data": data,
    }


def validate(event: dict[str, Any]) -> None:
    """Raise BadEventError unless the event matches the published schema."""
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    try:
        import jsonschema
    except ImportError:
        _validate_patterns(event, schema)
        return
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(event), key=str)
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path) or "event"
        raise BadEventError(f"{where}: {errors[0].message}")


def _validate_patterns(event: dict[str, Any], schema: dict[str, Any]) -> None:
    fields = schema["properties"]["data"]["properties"]
    data = event["data"]
    for name in ("registry", "repository"):
        rule = fields[name]
        if not re.search(rule["pattern"], data[name]) or len(data[name]) > rule.get(
            "maxLength", 1 << 30
        ):
            raise BadEventError(f"data/{name}: {data[name]!r} does not match {rule['pattern']}")
    status = data.get("status")
    if status is not None and not 100 <= status <= 599:
        raise BadEventError(f"data/status: {status} is not an HTTP status")
    if len(data.get("tag") or "") > 128:
        raise BadEventError("data/tag: longer than 128 characters")
    identity = data.get("identity")
    kinds = fields["identity"]["oneOf"][0]["properties"]["kind"]["enum"]
    if identity is not None and (
        identity["kind"] not in kinds or not 1 <= len(identity["id"]) <= 256
    ):
        raise BadEventError(f"data/identity: kind must be one of {', '.join(kinds)}, with an id")


def _token() -> str:
    token = os.environ.get("CACHEKEEPER_EVENTS_TOKEN")
    if token:
        return token
    command = ["az", "account", "get-access-token", "--resource", EVENT_GRID_RESOURCE,
               "--query", "accessToken", "--output", "tsv"]  # fmt: skip
    try:
        done = subprocess.run(  # noqa: S603 - a fixed argv: the Azure CLI's own token command
            command, capture_output=True, text=True, timeout=60, check=True
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise ConnectionError(f"cannot get an Entra token with az ({type(exc).__name__})") from exc
    return done.stdout.strip()


def publish(event: dict[str, Any], endpoint: str, timeout: float) -> int:
    """POST the event; the HTTP status Event Grid answered."""
    headers = {"Content-Type": CONTENT_TYPE}
    key = os.environ.get("CACHEKEEPER_TOPIC_KEY")
    if key:
        headers["aeg-sas-key"] = key
    else:
        headers["Authorization"] = f"Bearer {_token()}"
    body = json.dumps(event).encode("utf-8")
    request = urllib.request.Request(endpoint, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - https, or loopback
            return int(response.status)
    except urllib.error.HTTPError as exc:
        detail = exc.read(2000).decode("utf-8", "replace")
        print(f"the topic answered {exc.code}: {detail}", file=sys.stderr)
        return int(exc.code)


def _endpoint_problem(endpoint: str | None) -> str | None:
    if not endpoint:
        return "give --endpoint or set CACHEKEEPER_EVENTS_ENDPOINT"
    if not endpoint.lower().startswith(("https://", "http://127.0.0.1", "http://localhost")):
        return f"the endpoint must be an https URL, not {endpoint[:80]!r}"
    return None


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registry", required=True, help="resource id of the registry pulled from")
    parser.add_argument(
        "--repository", required=True, help="repository path, e.g. dockerhub/library/nginx"
    )
    parser.add_argument("--status", type=int, help="HTTP status of the failed pull (e.g. 401, 404)")
    parser.add_argument("--tag", help="tag that was pulled")
    parser.add_argument(
        "--identity",
        help="who pulled, KIND:ID: entra:<object id>, admin-user:<registry name> or token:<token name>",
    )
    parser.add_argument("--time", help="when the pull failed (ISO 8601; default: the event's time)")
    parser.add_argument(
        "--source", help="who saw the failure (default: //<host>/publish-pull-failed)"
    )
    parser.add_argument("--id", help="event id (default: a new UUID; reuse it when retrying)")
    parser.add_argument("--endpoint", default=os.environ.get("CACHEKEEPER_EVENTS_ENDPOINT"),
                        help="the custom topic's endpoint (default: $CACHEKEEPER_EVENTS_ENDPOINT)")  # fmt: skip
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the topic")
    parser.add_argument("--dry-run", action="store_true", help="print the event, send nothing")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    event = build_event(args, datetime.now(UTC))
    try:
        validate(event)
    except BadEventError as exc:
        print(f"not a valid {EVENT_TYPE} event: {exc}", file=sys.stderr)
        return 2
    if args.dry_run:
        print(json.dumps(event, indent=2))
        return 0
    problem = _endpoint_problem(args.endpoint)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    try:
        status = publish(event, args.endpoint, args.timeout)
    except (ConnectionError, OSError) as exc:
        print(f"could not reach the topic: {exc}", file=sys.stderr)
        return 1
    if 200 <= status < 300:
        print(
            f"published {EVENT_TYPE} {event['id']} for {event['data']['repository']}",
            file=sys.stderr,
        )
        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
