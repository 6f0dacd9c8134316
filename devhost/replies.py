"""The host's own HTTP replies: a plain value type plus JSON and problem+json helpers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Reply", "json_reply", "problem"]


@dataclass(frozen=True, slots=True)
class Reply:
    """A status, ordered header pairs (repeats allowed) and a body."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


def json_reply(status: int, value: Any, *, headers: list[tuple[str, str]] | None = None) -> Reply:
    """A JSON reply."""
    body = json.dumps(value, sort_keys=True).encode()
    return Reply(status, [("Content-Type", "application/json"), *(headers or [])], body)


def problem(
    status: int, title: str, detail: str, *, headers: list[tuple[str, str]] | None = None
) -> Reply:
    """An RFC 9457 problem details reply."""
    body = json.dumps(
        {"type": "about:blank", "title": title, "status": status, "detail": detail}, sort_keys=True
    ).encode()
    return Reply(status, [("Content-Type", "application/problem+json"), *(headers or [])], body)
