"""`/_sandbox` control routes for Event Grid custom topics: what each topic accepted."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.core import Sandbox

_Route = Callable[["Sandbox", dict[str, str], dict[str, str], bytes], tuple[int, Any]]


def _events(sb: Sandbox, p: dict[str, str], q: dict[str, str], raw: bytes) -> tuple[int, Any]:
    """`?topic=<host>` narrows to one topic; oldest first, repeats kept."""
    events = sb.topics.events(q.get("topic") or None)
    return 200, {"count": len(events), "batches": sb.topics.batches, "events": events}


def _clear(sb: Sandbox, p: dict[str, str], q: dict[str, str], raw: bytes) -> tuple[int, Any]:
    sb.topics.clear()
    return 200, {"cleared": True}


TOPIC_ROUTES: list[tuple[str, re.Pattern[str], _Route]] = [
    ("GET", re.compile(r"^/topics/events$"), _events),
    ("DELETE", re.compile(r"^/topics/events$"), _clear),
]
